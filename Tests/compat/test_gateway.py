"""The official `openai` and `anthropic` SDKs against `switchboard gateway` fronting the simulator:
an app changes only its base URL and key."""

import json
import urllib.request
from decimal import Decimal

import anthropic
import httpx2
import openai
import pytest

from conftest import Timeline


def openai_client(gateway, key="app", **options):
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.keys.get(key, key), **options)


def anthropic_client(gateway, key="app", **options):
    return anthropic.Anthropic(base_url=gateway.url, api_key=gateway.keys.get(key, key), **options)


def error_table():
    """The error table as the gateway's binary prints it, by code."""
    import subprocess

    from conftest import BINARY

    rows = json.loads(subprocess.run([BINARY, "errors", "--json"], capture_output=True, text=True, check=True).stdout)
    return {row["code"]: row for row in rows}


TABLE = None


def promised(code):
    global TABLE
    TABLE = TABLE or error_table()
    return TABLE[code]


def test_chat_through_a_route_journals_the_call_with_its_cost(gateway):
    raw = openai_client(gateway).chat.completions.with_raw_response.create(
        model="default", messages=[{"role": "user", "content": "What is the refund window?"}]
    )
    response = raw.parse()
    assert response.choices[0].message.content.startswith("Simulated answer from gpt-4o-mini.")
    request_id = raw.headers["x-request-id"]
    row = gateway.call(request_id)
    assert row["origin"] == "gateway" and row["user_id"] == "app-user" and row["route"] == "default"
    assert row["outcome"] == "ok" and row["output_tokens"] == response.usage.completion_tokens
    # The cost header is the journal's cost, to the nano-dollar.
    assert Decimal(raw.headers["x-switchboard-cost-usd"]) * 10**9 == row["cost_nano_usd"]
    assert row["cost_nano_usd"] > 0
    # The provider's own id of the request, beside the gateway's.
    provider_id = raw.headers["x-switchboard-provider-request-id"]
    assert provider_id.startswith("req_") and provider_id != request_id
    # The caller's own limits come back in OpenAI's header family.
    assert int(raw.headers["x-ratelimit-limit-requests"]) == 100000
    assert raw.headers["x-ratelimit-reset-requests"].endswith("s")
    assert raw.headers["traceparent"].startswith("00-")


def test_streaming_openai_gives_the_whole_answer_and_usage(gateway):
    messages = [{"role": "user", "content": "Stream me an answer"}]
    whole = openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages=messages)
    stream = openai_client(gateway).chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    text, usage = [], None
    for chunk in stream:
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
        if chunk.usage:
            usage = chunk.usage
    assert "".join(text) == whole.choices[0].message.content
    assert usage.completion_tokens == whole.usage.completion_tokens


def test_anthropic_message_and_stream_with_anthropic_headers(gateway):
    client = anthropic_client(gateway)
    raw = client.messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "Hello there"}]
    )
    message = raw.parse()
    assert message.stop_reason == "end_turn" and message.content[0].text
    assert raw.headers["request-id"] == raw.headers["x-request-id"]
    assert raw.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "Hello there"}]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == message.content[0].text
    assert final.usage.output_tokens == message.usage.output_tokens


def test_an_openai_route_answers_an_anthropic_caller(gateway):
    message = anthropic_client(gateway).messages.create(
        model="default", max_tokens=100, messages=[{"role": "user", "content": "Translate me"}]
    )
    assert message.content[0].text.startswith("Simulated answer from gpt-4o-mini.")


def test_tools_and_structured_output_pass_through(gateway):
    tool = {
        "name": "record_answer",
        "input_schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    }
    message = anthropic_client(gateway).messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        tools=[tool],
        tool_choice={"type": "tool", "name": "record_answer"},
        messages=[{"role": "user", "content": "Refund window?"}],
    )
    assert message.stop_reason == "tool_use" and isinstance(message.content[0].input["answer"], str)
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["answer", "days"],
        "additionalProperties": False,
    }
    response = openai_client(gateway).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Refund window?"}],
        response_format={"type": "json_schema", "json_schema": {"name": "refund", "schema": schema, "strict": True}},
    )
    answer = json.loads(response.choices[0].message.content)
    assert isinstance(answer["answer"], str) and isinstance(answer["days"], int)


def queue_fault(sim, fault, key):
    body = json.dumps({"faults": [fault], "key": key}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{sim.url}/sim/faults", data=body, method="POST"))


REFUND_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["answer", "days"],
    "additionalProperties": False,
}


def test_an_invalid_structured_answer_is_repaired_before_the_sdk_sees_it(gateway, sim):
    queue_fault(sim, "invalid-output", "sk-sim-gateway-openai")
    raw = openai_client(gateway).chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Refund window?"}],
        response_format={"type": "json_schema", "json_schema": {"name": "refund", "schema": REFUND_SCHEMA, "strict": True}},
    )
    answer = json.loads(raw.parse().choices[0].message.content)
    assert isinstance(answer["days"], int)
    row = gateway.call(raw.headers["x-request-id"])
    assert json.loads(row["validation"])["action"] == "repaired" and row["attempts"] == 2


def test_an_answer_that_still_fails_raises_unprocessable_entity(gateway, sim):
    queue_fault(sim, "invalid-output", "sk-sim-gateway-openai")
    row = promised("invalid_output")
    with pytest.raises(getattr(openai, row["openai_sdk"])) as raised:
        openai_client(gateway, max_retries=2).chat.completions.create(
            model="strict",
            messages=[{"role": "user", "content": "Refund window?"}],
            response_format={"type": "json_schema", "json_schema": {"name": "refund", "schema": REFUND_SCHEMA}},
        )
    assert raised.value.status_code == row["http"] == 422
    assert "failed validation" in raised.value.message


def test_a_repeated_deterministic_request_is_a_cache_hit(gateway):
    client = openai_client(gateway)
    messages = [{"role": "user", "content": "Which plans include priority support?"}]
    first = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages, temperature=0)
    second = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages, temperature=0)
    assert first.headers["x-switchboard-cache"] == "miss"
    assert second.headers["x-switchboard-cache"] == "hit"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert gateway.call(second.headers["x-request-id"])["outcome"] == "cached"


def test_the_end_user_header_is_trusted_only_from_keys_allowed_to_send_it(gateway):
    headers = {"x-switchboard-user": "end-user-7"}
    raw = openai_client(gateway, "backend").chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers=headers
    )
    assert gateway.call(raw.headers["x-request-id"])["user_id"] == "end-user-7"
    with pytest.raises(getattr(openai, promised("permission_denied")["openai_sdk"])) as refused:
        openai_client(gateway).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers=headers
        )
    assert "--allow-user-header" in refused.value.message


def test_the_sdk_retries_a_per_user_limit_after_the_gateways_retry_after(gateway):
    key = gateway.keys["paced"]
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1}
    # Spend the key's burst (12 requests, one more every 5 s) outside the SDK: the SDK's own call
    # then comes well inside the 5 s and must wait for the slot.
    with httpx2.Client() as http:
        for sent in range(400):
            status = http.post(
                f"{gateway.url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
            ).status_code
            if status == 429:
                break
    assert status == 429 and sent >= 12
    timeline = Timeline()
    client = openai_client(
        gateway, "paced", max_retries=3, http_client=openai.DefaultHttpx2Client(event_hooks=timeline.hooks())
    )
    response = client.chat.completions.create(**body)
    assert response.choices[0].message.content is not None
    codes = [status for _, status, _ in timeline.responses]
    assert codes[0] == 429 and codes[-1] == 200
    at, _, headers = timeline.responses[0]
    advertised = float(headers["retry-after-ms"]) / 1000
    assert 0 < advertised <= 5 + 0.01
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert timeline.requests[1] - at >= advertised - 0.005


def test_an_exhausted_budget_is_not_retried_by_the_sdk(gateway):
    timeline = Timeline()
    client = openai_client(
        gateway, "broke", max_retries=3, http_client=openai.DefaultHttpx2Client(event_hooks=timeline.hooks())
    )
    with pytest.raises(getattr(openai, promised("budget_exceeded")["openai_sdk"])) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 429 and refused.value.code == "budget_exceeded"
    assert len(timeline.requests) == 1, "the SDK retried an exhausted budget"
    with pytest.raises(getattr(anthropic, promised("budget_exceeded")["anthropic_sdk"])):
        anthropic_client(gateway, "broke", max_retries=3).messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )


def expect_error(code, call, sdk):
    """`call` raises the exception the error table promises for `code`, with its status."""
    row = promised(code)
    name = row["openai_sdk"] if sdk is openai else row["anthropic_sdk"]
    with pytest.raises(getattr(sdk, name)) as raised:
        call()
    assert raised.value.status_code == row["http"]
    return raised.value


@pytest.mark.parametrize("sdk", [openai, anthropic], ids=["openai", "anthropic"])
def test_every_error_reachable_from_outside_raises_the_promised_exception(gateway, sim, sdk):
    def send(model="gpt-4o-mini", content="hi", key="app", **extra):
        messages = [{"role": "user", "content": content}]
        if sdk is openai:
            client = openai_client(gateway, key, max_retries=0)
            return client.chat.completions.create(model=model, messages=messages, **extra)
        client = anthropic_client(gateway, key, max_retries=0)
        return client.messages.create(model=model, max_tokens=50, messages=messages, **extra)

    expect_error("unauthenticated", lambda: send(key="sk-sb-000000000000-" + "0" * 40), sdk)
    expect_error("unknown_model", lambda: send(model="no-such-model"), sdk)
    expect_error("bad_request", lambda: send(extra_body={"messages": "not a list"}), sdk)
    expect_error("body_too_large", lambda: send(content="x" * 70_000), sdk)
    # Bigger than the key's whole token limit: a 429 that waiting cannot clear, so the SDK does not retry.
    timeline = Timeline()
    if sdk is openai:
        small = openai_client(gateway, "small", max_retries=2, http_client=openai.DefaultHttpx2Client(event_hooks=timeline.hooks()))
        too_big = lambda: small.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    else:
        small = anthropic_client(gateway, "small", max_retries=2, http_client=anthropic.DefaultHttpxClient(event_hooks=timeline.hooks()))
        too_big = lambda: small.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    expect_error("token_limited", too_big, sdk)
    assert len(timeline.requests) == 1
    blocked = expect_error("moderation_blocked", lambda: send(content="Describe the gore when the body is dismembered."), sdk)
    assert "violence/graphic" in blocked.message
    # Three 500s on a model with no fallback: the pipeline retried, the SDK must not.
    model, key = ("gpt-4.1-nano", "sk-sim-gateway-openai") if sdk is openai else ("claude-haiku-4-5", "sk-sim-gateway-anthropic")
    faults = json.dumps({"faults": ["500", "500", "500"], "model": model, "key": key})
    urllib.request.urlopen(urllib.request.Request(f"{sim.url}/sim/faults", data=faults.encode(), method="POST"))
    expect_error("upstream_exhausted", lambda: send(model=model), sdk)
    # An unknown endpoint.
    client = openai_client(gateway, max_retries=0) if sdk is openai else anthropic_client(gateway, max_retries=0)
    expect_error("not_found", lambda: client.get("/v1/no-such-endpoint", cast_to=object), sdk)


def test_models_lists_routes_then_provider_models(gateway):
    models = [model.id for model in openai_client(gateway).models.list()]
    assert models[0] == "default" and "gpt-4o-mini" in models and "claude-haiku-4-5" in models
    anthropic_models = [model.id for model in anthropic_client(gateway).models.list()]
    assert anthropic_models == models


def test_metrics_count_calls_and_never_show_a_key(gateway):
    openai_client(gateway).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "m"}])
    with urllib.request.urlopen(f"{gateway.url}/metrics") as response:
        text = response.read().decode()
    assert 'switchboard_calls_total{outcome="ok",provider="openai",model="gpt-4o-mini"}' in text
    assert "switchboard_headroom_remaining" in text
    for secret in ["sk-sim-gateway-openai", "sk-sim-gateway-anthropic", *gateway.keys.values()]:
        assert secret not in text
