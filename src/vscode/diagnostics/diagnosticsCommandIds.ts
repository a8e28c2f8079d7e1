// Pure (no vscode import): the command ids of the diagnostics feature; spread into CommandIds.
/** Commands of the diagnostics feature (`dockerNetLab.<noun>.<verb>`). package.json lists the same ids. */
export const diagnosticsCommandIds = {
  diagnosticsDiagnoseText: 'dockerNetLab.diagnostics.diagnoseText',
  diagnosticsExplain: 'dockerNetLab.diagnostics.explain',
  diagnosticsApplyFix: 'dockerNetLab.diagnostics.applyFix',
} as const;
