#!/usr/bin/env bash
# Stand-in for the VS Code executable in @vscode/test-electron's runTests({ vscodeExecutablePath }):
# receives --extensionDevelopmentPath=... --extensionTestsPath=... plus Electron flags (ignored) and
# runs the suite in code-server's extension host through headless chromium.
set -euo pipefail
exec node "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/runExtensionTests.mjs" "$@"
