-- Ghost text for Neovim 0.11 (before the native vim.lsp.inline_completion): asks the codeassist
-- server for textDocument/inlineCompletion while typing in insert mode, shows the first
-- suggestion as extmarks (inline virtual text + virtual lines), inserts it on the accept key and
-- dismisses it when leaving insert mode or typing on.
local M = {}
local ns = vim.api.nvim_create_namespace('codeassist_ghost')
local state = { buf = nil, row = nil, col = nil, end_col = nil, lines = nil, tick = nil, request = nil,
  client = nil }
local timer = nil
local DELAY_MS = 30

M.ns = ns

local function client_for(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'codeassist' })[1]
end

function M.clear()
  if state.buf and vim.api.nvim_buf_is_valid(state.buf) then
    vim.api.nvim_buf_clear_namespace(state.buf, ns, 0, -1)
  end
  if state.client and state.request then
    state.client:cancel_request(state.request)
  end
  state.lines, state.request = nil, nil
end

function M.visible()
  return state.lines ~= nil and state.buf == vim.api.nvim_get_current_buf()
    and state.tick == vim.api.nvim_buf_get_changedtick(state.buf)
end

local function show(buf, row, col, text)
  local lines = vim.split(text, '\n', { plain = true })
  if #lines == 0 or (#lines == 1 and lines[1] == '') then
    return
  end
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { lines[i], 'Comment' } })
  end
  vim.api.nvim_buf_set_extmark(buf, ns, row, col, {
    virt_text = { { lines[1], 'Comment' } },
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
  })
  state.lines = lines
end

-- the byte column where the item's range ends on the cursor line (past auto-closed brackets the
-- suggestion replaces); the cursor column when the item is a plain insertion
local function range_end(buf, row, col, item, encoding)
  local r = item.range
  if not r or r['end'].line ~= row then
    return col
  end
  local text = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ''
  local ok, byte = pcall(vim.str_byteindex, text, encoding, r['end'].character, false)
  if not ok then
    return col
  end
  return math.max(col, math.min(byte, #text))
end

local function request(buf)
  local client = client_for(buf)
  if not client or vim.api.nvim_get_mode().mode:sub(1, 1) ~= 'i' then
    return
  end
  M.clear()
  local win = vim.api.nvim_get_current_win()
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = 2 }
  local cursor = vim.api.nvim_win_get_cursor(win)
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  state.buf, state.row, state.col, state.tick, state.client = buf, cursor[1] - 1, cursor[2], tick, client
  local ok, id = client:request('textDocument/inlineCompletion', params, function(err, result)
    if err or not result or vim.api.nvim_buf_get_changedtick(buf) ~= tick then
      return
    end
    state.request = nil
    local items = result.items or result
    if type(items) == 'table' and items[1] and items[1].insertText then
      local text = items[1].insertText
      if type(text) == 'table' then
        text = text.value -- a StringValue (snippet): shown as plain text
      end
      state.end_col = range_end(buf, state.row, state.col, items[1], client.offset_encoding)
      show(buf, state.row, state.col, text)
    end
  end, buf)
  if ok then
    state.request = id
  end
end

function M.trigger()
  local buf = vim.api.nvim_get_current_buf()
  if timer then
    timer:stop()
  end
  timer = timer or vim.uv.new_timer()
  timer:start(DELAY_MS, 0, vim.schedule_wrap(function()
    request(buf)
  end))
end

--- Insert the shown suggestion at the cursor (over the text its range covers). Returns false when
--- there is none.
function M.accept()
  if not M.visible() then
    return false
  end
  local lines, buf, row, col = state.lines, state.buf, state.row, state.col
  local stop = state.end_col or col
  M.clear()
  vim.api.nvim_buf_set_text(buf, row, col, row, stop, lines)
  local last = row + #lines - 1
  local end_col = (#lines == 1) and (col + #lines[1]) or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last + 1, end_col })
  return true
end

function M.setup(opts)
  local key = opts.accept_key or '<Tab>'
  local group = vim.api.nvim_create_augroup('codeassist_ghost', { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'TextChangedP' }, {
    group = group,
    callback = function()
      M.clear()
      M.trigger()
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, { group = group, callback = M.clear })
  vim.api.nvim_create_autocmd('CursorMovedI', {
    group = group,
    callback = function()
      local cursor = vim.api.nvim_win_get_cursor(0)
      if state.lines and (cursor[1] - 1 ~= state.row or cursor[2] ~= state.col) then
        M.clear()
      end
    end,
  })
  vim.keymap.set('i', key, function()
    if M.visible() then
      return '<Cmd>lua require("codeassist.ghost").accept()<CR>'
    end
    return key
  end, { expr = true, replace_keycodes = true, desc = 'codeassist: accept the suggestion' })
end

return M
