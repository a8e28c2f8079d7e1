import * as vscode from 'vscode';
import type { ChapterDefinition, LabDefinition, OverlayPath, StepDefinition } from '../../core/lab/labDefinition';
import type { StepStateTable } from './stepStates';
import { appliesToPath, chapterProgress, stateIcon, stepContextValue } from './stepStates';

/** A row of the Lab Steps tree: a chapter, a step, or a message (lab definition could not load). */
export type StepsNode =
  | { readonly kind: 'chapter'; readonly chapter: ChapterDefinition }
  | { readonly kind: 'step'; readonly chapter: ChapterDefinition; readonly step: StepDefinition }
  | { readonly kind: 'message'; readonly text: string };

/** What the tree needs from the steps feature. */
export interface StepsTreeSource {
  /** The loaded lab, or the load error. */
  lab(): LabDefinition | Error;
  readonly states: StepStateTable;
  overlayPath(): OverlayPath | undefined;
  /** Language for titles (`zh-cn` when VS Code runs in Chinese). */
  readonly language: 'en' | 'zh-cn';
}

/** The "Lab Steps" view: chapters → steps with state icons; refreshes when a state changes. */
export class StepsTreeProvider implements vscode.TreeDataProvider<StepsNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<StepsNode | undefined>();
  private readonly unsubscribe: () => void;
  private readonly onTrust: vscode.Disposable;
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly source: StepsTreeSource) {
    this.unsubscribe = source.states.onDidChange(() => { this.refresh(); });
    this.onTrust = vscode.workspace.onDidGrantWorkspaceTrust(() => { this.refresh(); });
  }

  /** Re-renders the whole tree (cheap: ~30 rows). */
  refresh(): void {
    this.emitter.fire(undefined);
  }

  getChildren(node?: StepsNode): StepsNode[] {
    // untrusted: no rows, so the view shows its welcome content (package.json viewsWelcome)
    if (!vscode.workspace.isTrusted) { return []; }
    const lab = this.source.lab();
    if (lab instanceof Error) {
      return node === undefined ? [{ kind: 'message', text: `The lab definition could not be loaded: ${lab.message}` }] : [];
    }
    if (node === undefined) { return lab.chapters.map((chapter) => ({ kind: 'chapter', chapter })); }
    if (node.kind === 'chapter') { return node.chapter.steps.map((step) => ({ kind: 'step', chapter: node.chapter, step })); }
    return [];
  }

  getParent(node: StepsNode): StepsNode | undefined {
    return node.kind === 'step' ? { kind: 'chapter', chapter: node.chapter } : undefined;
  }

  getTreeItem(node: StepsNode): vscode.TreeItem {
    const lang = this.source.language;
    const path = this.source.overlayPath();
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon('warning');
      item.contextValue = 'message';
      return item;
    }
    if (node.kind === 'chapter') {
      const lab = this.source.lab();
      const index = lab instanceof Error ? 0 : lab.chapters.indexOf(node.chapter);
      const item = new vscode.TreeItem(`${index + 1}. ${node.chapter.title[lang]}`, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `chapter:${node.chapter.id}`;
      const p = chapterProgress(node.chapter, (id) => this.source.states.state(id), path);
      item.description = `${p.done}/${p.total}`;
      item.iconPath = new vscode.ThemeIcon(p.running ? 'loading~spin' : p.done === p.total && p.total > 0 ? 'pass' : p.failed ? 'warning' : 'book');
      item.contextValue = 'chapter';
      item.tooltip = `${node.chapter.title.en}\nRuns on: ${node.chapter.nodes}`;
      return item;
    }
    const state = appliesToPath(node.step, path) ? this.source.states.state(node.step.id) : 'notApplicable';
    const icon = stateIcon(state);
    const item = new vscode.TreeItem(node.step.title[lang], vscode.TreeItemCollapsibleState.None);
    item.id = `step:${node.step.id}`;
    item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color === undefined ? undefined : new vscode.ThemeColor(icon.color));
    const flags = [node.step.expectFailure ? 'expected failure' : undefined, node.step.destructive ? 'changes the nodes' : undefined].filter(Boolean);
    item.description = [icon.label, ...flags].join(' · ');
    item.contextValue = stepContextValue(node.step, state);
    const record = this.source.states.record(node.step.id);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${node.step.title.en}** (\`${node.step.id}\`) — runs on ${node.step.nodes}\n\n`);
    md.appendMarkdown(`State: ${icon.label}${record ? ` (${new Date(record.at).toLocaleString()})` : ''}`);
    if (record?.message) { md.appendMarkdown(`\n\n`); md.appendText(record.message); }
    item.tooltip = md;
    item.command = { command: 'dockerNetLab.step.showOutput', title: 'Show Step Output', arguments: [node.step.id] };
    return item;
  }

  dispose(): void {
    this.unsubscribe();
    this.onTrust.dispose();
    this.emitter.dispose();
  }
}
