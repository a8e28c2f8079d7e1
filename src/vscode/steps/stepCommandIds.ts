// Pure (no vscode import): the command ids of the guided-lab steps feature; spread into CommandIds.
/** Commands of the Lab Steps view and the walkthrough (`dockerNetLab.<noun>.<verb>`). package.json lists the same ids. */
export const stepCommandIds = {
  stepRun: 'dockerNetLab.step.run',
  stepVerify: 'dockerNetLab.step.verify',
  stepShowOutput: 'dockerNetLab.step.showOutput',
  stepRunAll: 'dockerNetLab.step.runAll',
  labReset: 'dockerNetLab.lab.reset',
  labChooseOverlayPath: 'dockerNetLab.lab.chooseOverlayPath',
  labOpenWalkthrough: 'dockerNetLab.lab.openWalkthrough',
} as const;
