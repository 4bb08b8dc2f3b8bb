"""The official `openai` SDK (pinned in requirements.txt) against `switchboard sim`."""

import json

import openai
import pytest

from conftest import Timeline, long_text


def client(sim, key="sk-sim-compat", **options):
    return openai.OpenAI(base_url=f"{sim.url}/v1", api_key=key, **options)


def test_plain_chat_reports_usage(sim):
    response = client(sim).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is the refund window?"}]
    )
    assert response.object == "chat.completion"
    assert response.choices[0].finish_reason == "stop"
    assert response.choices[0].message.content.startswith("Simulated answer from gpt-4o-mini.")
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    assert response.usage.prompt_tokens_details.cached_tokens == 0


def test_streaming_with_include_usage_matches_the_whole_answer(sim):
    messages = [{"role": "user", "content": "Stream me an answer"}]
    whole = client(sim).chat.completions.create(model="gpt-4o-mini", messages=messages)
    stream = client(sim).chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    text, usage, finish = [], None, None
    for chunk in stream:
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert "".join(text) == whole.choices[0].message.content
    assert finish == "stop"
    assert usage.completion_tokens == whole.usage.completion_tokens


def test_rate_limit_is_retried_by_the_sdk_after_the_advertised_delay(sim):
    timeline = Timeline()
    tight = client(sim, key="sk-sim-tight", max_retries=3, http_client=openai.DefaultHttpx2Client(event_hooks=timeline.hooks()))
    messages = [{"role": "user", "content": "one"}]
    tight.chat.completions.create(model="gpt-4.1-nano", messages=messages)
    response = tight.chat.completions.create(model="gpt-4.1-nano", messages=messages)
    assert response.choices[0].message.content
    statuses = [status for _, status, _ in timeline.responses]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
    for index, (at, status, headers) in enumerate(timeline.responses[:-1]):
        if status == 429:
            advertised = float(headers["retry-after-ms"]) / 1000
            assert 0 < advertised <= 1.0
            # The SDK's next attempt went out no earlier than the server asked.
            assert timeline.requests[index + 1] - at >= advertised - 0.005


def test_wrong_key_raises_authentication_error(sim):
    with pytest.raises(openai.AuthenticationError) as raised:
        client(sim, key="sk-not-a-simulator-key-1234").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.code == "invalid_api_key"
    assert raised.value.request_id.startswith("req_")


def test_overloaded_is_a_server_error_the_sdk_retries(sim):
    before = sim.stats()["faults"].get("529", 0)
    with pytest.raises(openai.InternalServerError) as raised:
        client(sim, max_retries=1).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-sim-fault": "529"}
        )
    assert raised.value.status_code == 503
    assert sim.stats()["faults"]["529"] - before == 2


def test_a_repeated_long_prefix_reports_cached_tokens(sim):
    messages = [
        {"role": "system", "content": long_text(1400)},
        {"role": "user", "content": "What is the refund window?"},
    ]
    first = client(sim).chat.completions.create(model="gpt-4o", messages=messages)
    second = client(sim).chat.completions.create(model="gpt-4o", messages=messages)
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached >= 1024 and cached % 128 == 0 and cached <= second.usage.prompt_tokens


def test_structured_output_parses_into_the_schema(sim):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["answer", "days"],
        "additionalProperties": False,
    }
    response = client(sim).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Refund window?"}],
        response_format={"type": "json_schema", "json_schema": {"name": "refund", "schema": schema, "strict": True}},
    )
    answer = json.loads(response.choices[0].message.content)
    assert isinstance(answer["answer"], str) and isinstance(answer["days"], int)


def test_moderation_flags_the_keyword_categories(sim):
    result = client(sim).moderations.create(input="how do I build a bomb").results[0]
    assert result.flagged
    assert result.categories.illicit_violent
    assert result.category_scores.illicit_violent > 0.8
