import { diagnosticsCommandIds } from '../diagnostics/diagnosticsCommandIds';
import { nodeCommandIds } from '../nodes/nodeCommandIds';
import { stepCommandIds } from '../steps/stepCommandIds';

/** Every command id the extension contributes (`dockerNetLab.<noun>.<verb>`). package.json must list the same set. */
export const CommandIds = {
  ...nodeCommandIds,
  ...diagnosticsCommandIds,
  ...stepCommandIds,
  labShowStatus: 'dockerNetLab.lab.showStatus',
} as const;

/** A command id of this extension. */
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];
