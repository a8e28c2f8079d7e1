// Pure (no vscode import): the command ids of the nodes feature; spread into CommandIds.
/** Commands of the Lab Nodes view (`dockerNetLab.<noun>.<verb>`). package.json lists the same ids. */
export const nodeCommandIds = {
  nodeAdd: 'dockerNetLab.node.add',
  nodeEdit: 'dockerNetLab.node.edit',
  nodeRemove: 'dockerNetLab.node.remove',
  nodeConnect: 'dockerNetLab.node.connect',
  nodeDisconnect: 'dockerNetLab.node.disconnect',
  nodeRefresh: 'dockerNetLab.node.refresh',
  nodeOpenTerminal: 'dockerNetLab.node.openTerminal',
  nodeShowHostKeyFix: 'dockerNetLab.node.showHostKeyFix',
  nodeOpenSettings: 'dockerNetLab.node.openSettings',
  nodeForgetSecret: 'dockerNetLab.node.forgetSecret',
  nodesRefresh: 'dockerNetLab.nodes.refresh',
  nodesConnectAll: 'dockerNetLab.nodes.connectAll',
  networkInspect: 'dockerNetLab.network.inspect',
  networkCopySubnet: 'dockerNetLab.network.copySubnet',
  containerInspect: 'dockerNetLab.container.inspect',
  containerCopyAddress: 'dockerNetLab.container.copyAddress',
  containerOpenTerminal: 'dockerNetLab.container.openTerminal',
} as const;
