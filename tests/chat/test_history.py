from __future__ import annotations

from pathlib import Path

from codeassist.chat.history import History, StoredMessage, default_history_path


def test_history_lives_in_the_xdg_data_dir(isolated_env: Path) -> None:
    assert default_history_path().is_relative_to(isolated_env)


def test_conversations_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    history = History.open(db)
    repo = tmp_path / "repo"
    assert history.latest(repo) is None
    first = history.new_conversation(repo)
    history.append(first, StoredMessage("user", "what is 2+2?"))
    history.append(first, StoredMessage("assistant", "4", "local", "gemma"))
    empty = history.new_conversation(repo)  # no messages: never picked for --resume
    history.close()

    reopened = History.open(db)
    assert reopened.latest(repo) == first != empty
    assert reopened.messages(first) == [StoredMessage("user", "what is 2+2?", "", ""),
                                        StoredMessage("assistant", "4", "local", "gemma")]
    assert reopened.conversations(repo) == [(first, "what is 2+2?", reopened.conversations(repo)[0][2])]
    assert reopened.latest(tmp_path / "other") is None
    reopened.close()
