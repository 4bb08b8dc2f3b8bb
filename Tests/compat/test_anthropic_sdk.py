"""The official `anthropic` SDK (pinned in requirements.txt) against `switchboard sim`."""

import anthropic
import pytest

from conftest import Timeline, long_text


def client(sim, key="sk-sim-compat", **options):
    return anthropic.Anthropic(base_url=sim.url, api_key=key, **options)


def test_plain_message_reports_usage(sim):
    message = client(sim).messages.create(
        model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "What is the refund window?"}]
    )
    assert message.type == "message"
    assert message.stop_reason == "end_turn"
    assert message.content[0].text.startswith("Simulated answer from claude-haiku-4-5.")
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_read_input_tokens == 0


def test_streaming_gives_the_same_text_and_final_usage(sim):
    messages = [{"role": "user", "content": "Stream me an answer"}]
    whole = client(sim).messages.create(model="claude-sonnet-4-6", max_tokens=200, messages=messages)
    with client(sim).messages.stream(model="claude-sonnet-4-6", max_tokens=200, messages=messages) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == whole.content[0].text
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.stop_reason == "end_turn"


def test_rate_limit_is_retried_by_the_sdk_after_the_advertised_delay(sim):
    timeline = Timeline()
    tight = client(sim, key="sk-sim-tight", max_retries=3, http_client=anthropic.DefaultHttpxClient(event_hooks=timeline.hooks()))
    messages = [{"role": "user", "content": "one"}]
    tight.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=messages)
    message = tight.messages.create(model="claude-haiku-4-5", max_tokens=20, messages=messages)
    assert message.content
    statuses = [status for _, status, _ in timeline.responses]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
    for index, (at, status, headers) in enumerate(timeline.responses[:-1]):
        if status == 429:
            assert headers["x-should-retry"] == "true"
            advertised = float(headers["retry-after"])
            assert 0 < advertised <= 1.0
            assert timeline.requests[index + 1] - at >= advertised - 0.005


def test_wrong_key_raises_authentication_error(sim):
    with pytest.raises(anthropic.AuthenticationError) as raised:
        client(sim, key="sk-ant-not-a-simulator-key").messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.request_id.startswith("req_011C")


def test_overloaded_raises_the_sdks_overloaded_error(sim):
    with pytest.raises(anthropic.OverloadedError) as raised:
        client(sim, max_retries=0).messages.create(
            model="claude-haiku-4-5",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-sim-fault": "529"},
        )
    assert raised.value.status_code == 529
    assert raised.value.body["error"]["type"] == "overloaded_error"


def test_cache_control_writes_then_reads_the_prefix(sim):
    system = [{"type": "text", "text": long_text(1500, seed="anthropic"), "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "user", "content": "What is the refund window?"}]
    first = client(sim).messages.create(model="claude-sonnet-4-6", max_tokens=50, system=system, messages=messages)
    second = client(sim).messages.create(model="claude-sonnet-4-6", max_tokens=50, system=system, messages=messages)
    assert first.usage.cache_creation_input_tokens > 1024
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0


def test_a_forced_tool_returns_input_for_its_schema(sim):
    tool = {
        "name": "record_answer",
        "input_schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    }
    message = client(sim).messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        tools=[tool],
        tool_choice={"type": "tool", "name": "record_answer"},
        messages=[{"role": "user", "content": "Refund window?"}],
    )
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use" and block.name == "record_answer"
    assert isinstance(block.input["answer"], str)
