// codeassist for VS Code: starts `codeassist lsp` and lets vscode-languageclient wire inline
// completions, symbols and code actions. Adds three commands and a status-bar item fed by the
// server's `codeassist/status` notification.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');
const { statusText } = require('./status');

let client;
let statusItem;
let lastStatus = {};

function settings() {
  const cfg = vscode.workspace.getConfiguration('codeassist');
  const url = cfg.get('server.url', '');
  const options = { completion: { enabled: cfg.get('enable', true), debounce_ms: cfg.get('completion.debounceMs', 150) } };
  if (url) options.server = { url };
  return options;
}

function render() {
  const enabled = vscode.workspace.getConfiguration('codeassist').get('enable', true);
  const { text, tooltip } = statusText(lastStatus, enabled);
  statusItem.text = text;
  statusItem.tooltip = tooltip;
  statusItem.show();
}

async function start(context) {
  const command = vscode.workspace.getConfiguration('codeassist').get('server.command', ['codeassist', 'lsp']);
  // no `transport`: the client would append --stdio; `codeassist lsp` talks stdio by default
  const serverOptions = { command: command[0], args: command.slice(1) };
  const clientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    initializationOptions: settings(),
    outputChannelName: 'codeassist',
    middleware: {
      workspace: {
        // the server reads settings in config.toml's shape, not VS Code's flat keys
        configuration: () => [settings()],
      },
    },
  };
  client = new LanguageClient('codeassist', 'codeassist', serverOptions, clientOptions);
  context.subscriptions.push(client.onNotification('codeassist/status', (status) => {
    lastStatus = status || {};
    render();
  }));
  await client.start();
}

async function activate(context) {
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  statusItem.command = 'codeassist.showStatus';
  context.subscriptions.push(statusItem);
  render();

  context.subscriptions.push(
    vscode.commands.registerCommand('codeassist.restartServer', async () => {
      if (client) await client.stop();
      lastStatus = {};
      render();
      await start(context);
    }),
    vscode.commands.registerCommand('codeassist.toggleCompletions', async () => {
      const cfg = vscode.workspace.getConfiguration('codeassist');
      await cfg.update('enable', !cfg.get('enable', true), vscode.ConfigurationTarget.Global);
    }),
    vscode.commands.registerCommand('codeassist.showStatus', () => {
      const { tooltip } = statusText(lastStatus, vscode.workspace.getConfiguration('codeassist').get('enable', true));
      vscode.window.showInformationMessage(tooltip.replace(/\n/g, ' · '));
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('codeassist')) return;
      render();
      if (client) client.sendNotification('workspace/didChangeConfiguration', { settings: settings() });
    }),
  );
  await start(context);
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
