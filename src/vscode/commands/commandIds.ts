import { nodeCommandIds } from '../nodes/nodeCommandIds';

/** Every command id the extension contributes (`dockerNetLab.<noun>.<verb>`). package.json must list the same set. */
export const CommandIds = {
  ...nodeCommandIds,
  labShowStatus: 'dockerNetLab.lab.showStatus',
} as const;

/** A command id of this extension. */
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];
