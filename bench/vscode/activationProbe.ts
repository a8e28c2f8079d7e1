// Extension-tests entry for the activation benchmark (bench/activation.ts): runs inside a fresh real
// VS Code extension host, makes sure the extension is active, and prints one line
// `DNL_ACTIVATION {json}` with the host's own performance marks around loading the extension's code
// (willLoadExtensionCode → didLoadExtensionCode) and its activate() call (willActivateExtension →
// didActivateExtension). Not a test: it measures; bench/activation.ts judges.
import * as vscode from 'vscode';

const EXTENSION_ID = 'docker-network-lab.docker-network-lab';

interface Mark { readonly name: string; readonly startTime: number }
interface MarkRegistry { getMarks(): Mark[] }

/** Called by the extension host (extensionTestsPath). Rejects when the extension is missing or the marks are. */
export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (ext === undefined) { throw new Error(`${EXTENSION_ID} is not installed`); }
  const activeBefore = ext.isActive;
  const t0 = performance.now();
  await ext.activate();
  const explicitMs = performance.now() - t0;
  const registry = (globalThis as { MonacoPerformanceMarks?: MarkRegistry }).MonacoPerformanceMarks;
  const marks = registry?.getMarks() ?? [];
  const at = (what: string): number | undefined => marks.find((m) => m.name === `code/extHost/${what}/${EXTENSION_ID}`)?.startTime;
  const result = {
    activeBefore,
    explicitActivateMs: explicitMs,
    willLoad: at('willLoadExtensionCode'),
    didLoad: at('didLoadExtensionCode'),
    willActivate: at('willActivateExtension'),
    didActivate: at('didActivateExtension'),
    markCount: marks.length,
  };
  console.log(`DNL_ACTIVATION ${JSON.stringify(result)}`);
}
