-- codeassist language server for Neovim 0.11+ (`vim.lsp.config`). Put this directory on
-- 'runtimepath' (or copy this file to ~/.config/nvim/lsp/) and call vim.lsp.enable('codeassist').
-- Settings have the shape of config.toml: { server = { url = ... }, completion = { ... } }.
return {
  cmd = { 'codeassist', 'lsp' },
  root_markers = { '.codeassist.toml', '.git' },
  init_options = {
    completion = { enabled = true, debounce_ms = 150 },
  },
  settings = { codeassist = {} },
  handlers = {
    ['codeassist/status'] = function(_, status)
      require('codeassist').on_status(status)
    end,
  },
}
