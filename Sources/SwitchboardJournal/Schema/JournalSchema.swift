import GRDB

/// The journal's schema: string-named migrations, never edited once shipped (add a new one).
///
/// The SQL carries a comment on every column; SQLite keeps it, so `sqlite3 FILE .schema` and
/// `switchboard journal schema` print the documentation with the tables. Times are Unix epoch
/// milliseconds (UTC); money is integer nano-dollars (1 USD = 1,000,000,000).
public enum JournalSchema {
    /// Bumped with every migration; kept in `PRAGMA user_version` for tools that only read that.
    public static let version = 1

    /// The documented SQL of every migration, in order: what `switchboard journal schema` prints.
    public static var documentedSQL: String { v1 }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-calls-attempts-events-headroom-rollups-fts") { db in
            try db.execute(sql: v1)
            try db.execute(sql: "PRAGMA user_version = 1")
        }
        return migrator
    }

    /// A rollup table: figures per time bucket and dimensions. The fleet tables leave out user and
    /// tenant, so whole-fleet windows read a few rows per bucket however many users there are; the
    /// user tables keep only user and tenant, for spend per user.
    static func rollupTable(_ name: String, _ bucket: String, users: Bool, traffic: Bool) -> String {
        var dimensions = ""
        if users {
            dimensions += """
                    user_id TEXT NOT NULL,           -- '' when none (likewise for the other dimensions)
                        tenant_id TEXT NOT NULL,

                """
        }
        if traffic {
            dimensions += """
                    route TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        model TEXT NOT NULL,             -- model_used, else model_requested
                        origin TEXT NOT NULL,

                """
        }
        let key =
            ["bucket_start"] + (users ? ["user_id", "tenant_id"] : [])
            + (traffic ? ["route", "provider", "model", "origin"] : [])
        return """
            CREATE TABLE \(name) (
                    bucket_start INTEGER NOT NULL,   -- \(bucket)
                    \(dimensions)
                    calls INTEGER NOT NULL,
                    ok INTEGER NOT NULL, errors INTEGER NOT NULL, blocked INTEGER NOT NULL, cached INTEGER NOT NULL,   -- calls by outcome
                    rate_limited INTEGER NOT NULL, budget INTEGER NOT NULL, invalid_output INTEGER NOT NULL,
                    error_classes TEXT NOT NULL,     -- JSON: {error_class: count} of calls that did not end ok or cached
                    cache_hits INTEGER NOT NULL,     -- exact-cache hits (cache = hit)
                    cache_joined INTEGER NOT NULL,   -- identical in-flight requests joined (cache = joined)
                    retried INTEGER NOT NULL,        -- calls with more than one attempt
                    fell_back INTEGER NOT NULL,      -- calls answered by a fallback target
                    paced INTEGER NOT NULL,          -- calls that waited for headroom
                    input_tokens INTEGER NOT NULL, cached_input_tokens INTEGER NOT NULL,
                    cache_write_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
                    cost_nano_usd INTEGER NOT NULL,  -- sum over calls with a known cost
                    cost_unknown INTEGER NOT NULL,   -- calls whose cost is unknown
                    saved_nano_usd INTEGER NOT NULL,
                    latency_ms_sum REAL NOT NULL,
                    latency_hist BLOB,               -- log-bucket histogram of latency_ms (≤ 1 % relative error)
                    ttft_hist BLOB,                  -- log-bucket histogram of ttft_ms
                    PRIMARY KEY (\(key.joined(separator: ", ")))
                ) WITHOUT ROWID;
            """
    }

    static let v1 = """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,          -- row number: readers tail from a watermark on it
            request_id TEXT NOT NULL UNIQUE, -- req_…, as returned to the caller in x-request-id
            started_at INTEGER NOT NULL,     -- when the request arrived (Unix ms, UTC)
            ended_at INTEGER NOT NULL,       -- when the response (or its last byte) left
            user_id TEXT,                    -- end user: the virtual key's user, or x-switchboard-user when trusted
            tenant_id TEXT,                  -- tenant of the virtual key
            key_id TEXT,                     -- virtual key id (never the secret)
            session_id TEXT,                 -- multi-step task: x-switchboard-session or the library's context
            step INTEGER,                    -- step within the session: x-switchboard-step
            trace_id TEXT,                   -- W3C trace id (32 hex)
            span_id TEXT,                    -- W3C span id of this call (16 hex)
            origin TEXT NOT NULL,            -- gateway | library | playground
            route TEXT,                      -- configured route the caller named, if any
            provider TEXT,                   -- provider that answered (or was last tried): openai | anthropic
            model_requested TEXT,            -- "model" as the caller sent it
            model_used TEXT,                 -- provider model that answered
            stream INTEGER NOT NULL,         -- 1 for a streamed response
            outcome TEXT NOT NULL,           -- ok | error | blocked | cached | rate_limited | budget | invalid_output
            http_status INTEGER,             -- status returned to the caller
            error_class TEXT,                -- error table code or provider error type (rate_limit_exceeded, overloaded_error, …)
            error_message TEXT,              -- message returned to the caller (redacted)
            attempts INTEGER NOT NULL,       -- provider attempts made, the first included (0 for cache hits and refusals)
            latency_ms REAL,                 -- request arrival to last byte
            ttft_ms REAL,                    -- request arrival to first token (streams)
            input_tokens INTEGER NOT NULL,   -- uncached input tokens
            cached_input_tokens INTEGER NOT NULL,   -- prompt-cache reads
            cache_write_5m_tokens INTEGER NOT NULL, -- prompt-cache writes, 5-minute TTL
            cache_write_1h_tokens INTEGER NOT NULL, -- prompt-cache writes, 1-hour TTL
            output_tokens INTEGER NOT NULL,  -- output tokens, reasoning included
            reasoning_tokens INTEGER NOT NULL, -- reasoning part of output_tokens
            cost_nano_usd INTEGER,           -- cost in nano-USD; NULL when the model's price is unknown (never silently 0)
            saved_nano_usd INTEGER NOT NULL, -- cost avoided: a cache hit's would-be cost, prompt-cache discounts
            cache TEXT,                      -- exact-match cache: hit | miss | bypass | joined; NULL when not consulted
            paced_ms REAL NOT NULL,          -- time waited for provider headroom before sending
            fell_back INTEGER NOT NULL,      -- 1 when a fallback route target answered
            moderation TEXT,                 -- JSON: moderation verdicts and scores
            validation TEXT,                 -- JSON: output validation verdicts, violations, repairs
            headroom TEXT,                   -- JSON: provider headroom seen when sending
            request_body TEXT,               -- request as received, per journal.store_bodies (secrets masked when redacted)
            response_body TEXT               -- response or error body as delivered, per journal.store_bodies
        );
        CREATE INDEX calls_started_at ON calls(started_at);
        CREATE INDEX calls_user ON calls(user_id, started_at);
        CREATE INDEX calls_session ON calls(session_id, step) WHERE session_id IS NOT NULL;
        CREATE INDEX calls_not_ok ON calls(id) WHERE outcome <> 'ok' AND outcome <> 'cached';

        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,        -- the call (calls.request_id)
            number INTEGER NOT NULL,         -- 1 for the first attempt
            provider TEXT NOT NULL,          -- openai | anthropic
            model TEXT NOT NULL,             -- provider model tried
            key_fingerprint TEXT,            -- provider key as sk-…a1b2 (never the key)
            started_at INTEGER NOT NULL,     -- when the attempt was sent (Unix ms)
            http_status INTEGER,             -- provider status; NULL for a transport failure
            error_class TEXT,                -- provider error type/code, or timeout | reset | transport
            error_message TEXT,              -- provider error message (redacted)
            backoff_ms REAL NOT NULL,        -- backoff or pacing waited before this attempt
            retry_after_ms REAL,             -- delay the previous answer advertised (retry-after-ms / retry-after)
            latency_ms REAL,                 -- send to end of this attempt
            ratelimit TEXT                   -- JSON: rate-limit and retry headers received
        );
        CREATE INDEX attempts_request ON attempts(request_id);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,             -- when (Unix ms)
            request_id TEXT,                 -- the call, when the event belongs to one
            kind TEXT NOT NULL,              -- pacing_wait | breaker | fallback | budget_warning | retry_budget | …
            scope TEXT NOT NULL,             -- what it concerns: openai/gpt-4o-mini, user:alice, …
            detail TEXT                      -- JSON: the decision's figures
        );
        CREATE INDEX events_at ON events(at);
        CREATE INDEX events_request ON events(request_id) WHERE request_id IS NOT NULL;

        CREATE TABLE headroom (
            provider TEXT NOT NULL,
            key_fingerprint TEXT NOT NULL,   -- sk-…a1b2
            model TEXT NOT NULL,
            updated_at INTEGER NOT NULL,     -- when these headers were received (Unix ms)
            requests_limit INTEGER, requests_remaining INTEGER, requests_reset_at INTEGER,  -- reset_at: Unix ms
            tokens_limit INTEGER, tokens_remaining INTEGER, tokens_reset_at INTEGER,
            input_tokens_limit INTEGER, input_tokens_remaining INTEGER, input_tokens_reset_at INTEGER,     -- Anthropic
            output_tokens_limit INTEGER, output_tokens_remaining INTEGER, output_tokens_reset_at INTEGER,  -- Anthropic
            PRIMARY KEY (provider, key_fingerprint, model)
        ) WITHOUT ROWID;

        \(rollupTable("rollups_minute", "start of the minute (Unix ms)", users: true, traffic: true))
        \(rollupTable("rollups_hour", "start of the hour (Unix ms)", users: true, traffic: true))
        \(rollupTable("rollups_minute_fleet", "start of the minute; as rollups_minute without user and tenant", users: false, traffic: true))
        \(rollupTable("rollups_hour_fleet", "start of the hour; as rollups_hour without user and tenant", users: false, traffic: true))
        \(rollupTable("rollups_minute_user", "start of the minute; as rollups_minute with only user and tenant", users: true, traffic: false))
        \(rollupTable("rollups_hour_user", "start of the hour; as rollups_hour with only user and tenant", users: true, traffic: false))

        -- Full-text index of what people search for: the caller's last message, the answer and the
        -- error (system prompts are left out: they repeat on every call). rowid = calls.id.
        CREATE VIRTUAL TABLE calls_fts USING fts5(text, detail = none);
        """
}
