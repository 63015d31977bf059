-- codeassist for Neovim: enables the language server and picks the ghost-text implementation.
local M = { status = {} }

--- The last `codeassist/status` notification, for statuslines: "codeassist: ready 312 ms".
function M.statusline()
  local s = M.status
  if not s.state then
    return ''
  end
  local text = 'codeassist: ' .. s.state
  if s.lastLatencyMs and s.lastLatencyMs ~= vim.NIL then
    text = text .. string.format(' %d ms', s.lastLatencyMs)
  end
  if s.tiny then
    text = text .. ' (tiny demo model)'
  end
  return text
end

function M.on_status(status)
  M.status = status or {}
  vim.g.codeassist_status = M.status
  vim.api.nvim_exec_autocmds('User', { pattern = 'CodeassistStatus', modeline = false })
end

local function native_available()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

function M.setup(opts)
  opts = opts or {}
  local key = opts.accept_key or '<Tab>'
  vim.lsp.enable('codeassist')
  if native_available() and not opts.force_fallback then
    vim.lsp.inline_completion.enable(true)
    vim.keymap.set('i', key, function()
      if not vim.lsp.inline_completion.get() then
        return key
      end
    end, { expr = true, replace_keycodes = true, desc = 'codeassist: accept the suggestion' })
  else
    require('codeassist.ghost').setup({ accept_key = key })
  end
  vim.api.nvim_create_user_command('CodeassistStatus', function()
    vim.notify(M.statusline() ~= '' and M.statusline() or 'codeassist: not started')
  end, { desc = 'Show the codeassist status' })
end

return M
