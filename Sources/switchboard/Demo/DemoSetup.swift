import Foundation

/// The demo's two configuration files, written into its directory so that what it runs can be
/// read, copied and run again by hand (`switchboard sim --config …`, `switchboard gateway --config …`).
enum DemoSetup {
    /// The simulator: realistic per-key limits that bursts can drain, a few percent of 5xx and
    /// resets, structured outputs that are sometimes invalid, and each provider overloaded in
    /// turn: OpenAI from 12 s for 14 s, Anthropic from 72 s for 12 s, and so on every minute.
    static func simulatorYAML(seed: UInt64) -> String {
        var outages: [String] = []
        for minute in 0..<120 {
            let openAI = minute.isMultiple(of: 2)
            outages.append(
                "    - { provider: \(openAI ? "openai" : "anthropic"), status: \(openAI ? 503 : 529), "
                    + "after: \(minute * 60 + 12)s, for: \(openAI ? 14 : 12)s }"
            )
        }
        return """
            # The demo's provider simulator (switchboard demo writes this file; switchboard sim --config reads it).
            host: 127.0.0.1
            port: 0
            seed: \(seed)
            latency: { ttft: 150ms, tokens_per_second: 160 }
            limits:
              window: 60s
              openai: { rpm: 600, tpm: 200000 }
              anthropic: { rpm: 400, input_tpm: 160000, output_tpm: 40000 }
            faults:
              rates: { "500": 0.03, "529": 0.01, reset: 0.005 }
              outages:
            \(outages.joined(separator: "\n"))
            structured_output: { invalid_rate: 0.3 }

            """
    }

    /// Switchboard in front of the simulator at `simulator`: routes over both providers, one route
    /// with a single target (so an outage shows as errors), an opt-in cache route, validation with
    /// one repair (and a route that fails invalid answers at once), a tight limit and budget for the heavy user, and moderation blocking the worst.
    static func switchboardYAML(directory: String, journal: String, simulator: String, gatewayPort: Int) -> String {
        """
        # The demo's configuration (switchboard demo writes this file). To look at its journal later:
        #   switchboard console --config \(directory)/switchboard.yaml
        journal: { path: "\(journal)", store_bodies: redacted, durable: true }
        state: { backend: sqlite, sqlite_path: "\(directory)/state.sqlite" }
        providers:
          openai: { kind: openai, base_url: "\(simulator)", api_key: "sk-sim-demo-openai" }
          anthropic: { kind: anthropic, base_url: "\(simulator)", api_key: "sk-sim-demo-anthropic" }
        routes:
          default: { targets: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5] }
          support: { targets: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5], cache: { ttl: 10m } }
          premium: { targets: [anthropic/claude-sonnet-4-5, openai/gpt-4.1] }
          extract: { targets: [openai/gpt-4.1-mini, anthropic/claude-haiku-4-5] }
          extract-strict: { targets: [openai/gpt-4.1-mini, anthropic/claude-haiku-4-5], validate: { on_invalid: fail } }
          bulk: { targets: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5] }
          reports: { targets: [openai/gpt-4.1] }
        resilience:
          retry: { max_attempts: 3, base: 250ms, cap: 2s, retry_after_cap: 5s }
          breaker: { window: 20s, min_calls: 8, failure_ratio: 0.5, open_for: 8s }
          pacing: { enabled: true, max_wait: 3s }
        cache:
          exact: { enabled: true, default_ttl: 1h, deterministic_only: true }
        limits:
          default_user: { rpm: 120, tpm: 400000, max_output_tokens: 2048 }
          users: { heavy-hank: { rpm: 20, tpm: 60000 } }
        budgets:
          period: day
          default_user: { hard: 20.00, soft: 16.00 }
          users: { heavy-hank: { hard: 0.10, soft: 0.06 } }
        moderation:
          local: { enabled: true }
          policy:
            default: flag
            block: [sexual/minors, self-harm/instructions, violence/graphic, illicit/violent]
        validation: { on_invalid: repair, max_repairs: 1 }
        gateway: { listen: "127.0.0.1:\(gatewayPort)", drain_timeout: 10s }
        console: { user: operator, refresh: 150ms }

        """
    }
}
