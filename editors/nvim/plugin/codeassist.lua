-- codeassist: ghost-text completions from the local model.
-- Neovim 0.12+: the native vim.lsp.inline_completion. Neovim 0.11: a small extmark fallback.
-- Options (set before this file runs): vim.g.codeassist = { accept_key = '<Tab>', enable = true }
if vim.g.loaded_codeassist then
  return
end
vim.g.loaded_codeassist = true
local opts = vim.tbl_extend('keep', vim.g.codeassist or {}, { accept_key = '<Tab>', enable = true })
if opts.enable then
  require('codeassist').setup(opts)
end
