// Status-bar text for a `codeassist/status` notification (kept free of the vscode API so it
// can be checked with plain node).
'use strict';

function statusText(status, enabled) {
  if (!enabled) {
    return { text: '$(circle-slash) codeassist off', tooltip: 'Inline completions are off (codeassist: Toggle Inline Completions).' };
  }
  const s = status || {};
  const icons = { ready: '$(sparkle)', starting: '$(sync~spin)', down: '$(error)', disabled: '$(circle-slash)', idle: '$(circle-outline)' };
  const icon = icons[s.state] || '$(circle-outline)';
  let text = `${icon} codeassist`;
  if (s.state === 'ready' && typeof s.lastLatencyMs === 'number') {
    text += ` ${Math.round(s.lastLatencyMs)} ms`;
  } else if (s.state && s.state !== 'ready') {
    text += ` ${s.state}`;
  }
  const lines = [`Server: ${s.state || 'not started'}`];
  if (s.model) lines.push(`Model: ${s.model}${s.tiny ? ' (tiny demo model: suggestions will be poor)' : ''}`);
  if (typeof s.lastLatencyMs === 'number') lines.push(`Last completion: ${Math.round(s.lastLatencyMs)} ms`);
  for (const e of s.endpoints || []) {
    const ms = typeof e.latencyMs === 'number' ? `, ${Math.round(e.latencyMs)} ms` : '';
    lines.push(`${e.url}: ${e.state}${ms}`);
  }
  if (s.detail) lines.push(s.detail);
  return { text, tooltip: lines.join('\n') };
}

module.exports = { statusText };
