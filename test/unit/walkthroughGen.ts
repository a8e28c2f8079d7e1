// Typed access to scripts/genWalkthrough.mjs for the unit tests (node >= 20.19 can require an ES module).
import * as path from 'node:path';
import { createRequire } from 'node:module';

/** One generated walkthrough step. */
export interface WalkthroughStep { id: string; title: string; description: string; media: { markdown: string }; completionEvents: string[]; when?: string }
/** What generate() returns. */
export interface Generated {
  files: Record<string, string>;
  walkthroughs: { id: string; title: string; steps: WalkthroughStep[] }[];
  nls: { en: Record<string, string>; 'zh-cn': Record<string, string> };
  steps: string[];
}
/** The generator's exports used here. */
export interface GenModule {
  generate(root: string): Generated;
  expectedOutputs(root: string): { outputs: Record<string, string>; generated: Generated };
  spliceWalkthroughs(pkgText: string, walkthroughs: unknown): string;
  mergeNls(existing: string | undefined, ours: Record<string, string>): string;
  parseProse(text: string, file: string): { title: string; summary: string; body: string };
  renderForReader(template: string, images: Record<string, string>): string;
  stepContextKey(id: string): string;
  staleWalkthroughFiles(root: string, outputs: Record<string, string>): string[];
}

/** The repository root (tests run from out/test/unit). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
/** Loads scripts/genWalkthrough.mjs (node ≥ 20.19 can require an ES module). */
export function loadGenerator(): GenModule {
  return createRequire(__filename)(path.join(repoRoot, 'scripts', 'genWalkthrough.mjs')) as GenModule;
}

