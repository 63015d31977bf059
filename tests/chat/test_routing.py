from __future__ import annotations

from codeassist.chat.routing import RoutingInputs, decide, mentioned_paths


def inputs(text: str, **kw: object) -> RoutingInputs:
    base: dict[str, object] = {"text": text, "mode": "auto", "cloud_allowed": True, "claude_ready": True}
    base.update(kw)
    return RoutingInputs(**base)  # type: ignore[arg-type]


def test_quick_question_stays_local() -> None:
    decision = decide(inputs("what does enumerate return?"))
    assert decision.route == "local"
    assert "quick" in decision.reason


def test_snippet_and_explanation_stay_local() -> None:
    assert "snippet" in decide(inputs("write a function that parses ISO dates")).reason
    explained = decide(inputs("explain what this does", context_files=("app.py",)))
    assert explained.route == "local" and "in context" in explained.reason


def test_multi_file_work_goes_to_claude() -> None:
    decision = decide(inputs("rename Store.fetch to Store.load across the whole codebase"))
    assert decision.route == "claude"
    spans = decide(inputs("make a.py, b/c.py and d.ts share one config loader"))
    assert spans.route == "claude" and "3 files" in spans.reason


def test_long_context_goes_to_claude() -> None:
    decision = decide(inputs("summarise", prompt_tokens=20_000, local_budget=3000))
    assert decision.route == "claude" and "20000" in decision.reason


def test_asking_for_claude_is_honoured() -> None:
    assert decide(inputs("ask claude: is this thread-safe?")).route == "claude"
    assert decide(inputs("hi", mode="claude")).reason == "Claude route chosen with /claude"


def test_local_mode_and_offline_never_go_to_claude() -> None:
    big = "refactor every module across the whole repo"
    assert decide(inputs(big, mode="local")).route == "local"
    offline = decide(inputs(big, cloud_allowed=False, mode="claude"))
    assert offline.route == "local" and "offline" in offline.reason


def test_without_a_key_the_reason_says_so() -> None:
    decision = decide(inputs("migrate all modules to pathlib", claude_ready=False))
    assert decision.route == "local"
    assert "ANTHROPIC_API_KEY" in decision.reason


def test_mentioned_paths() -> None:
    assert mentioned_paths("see src/app.py and README.md, version 1.2.3, e.g. app.py") == [
        "src/app.py", "README.md", "app.py"]
