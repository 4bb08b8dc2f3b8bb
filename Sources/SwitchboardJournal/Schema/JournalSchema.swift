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

        CREATE TABLE rollups_minute (
            bucket_start INTEGER NOT NULL,   -- start of the minute (Unix ms)
            user_id TEXT NOT NULL,           -- '' when none (likewise for the other dimensions)
            tenant_id TEXT NOT NULL,
            route TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,             -- model_used, else model_requested
            origin TEXT NOT NULL,
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
            PRIMARY KEY (bucket_start, user_id, tenant_id, route, provider, model, origin)
        ) WITHOUT ROWID;

        CREATE TABLE rollups_hour (
            bucket_start INTEGER NOT NULL,   -- start of the hour (Unix ms); columns as in rollups_minute
            user_id TEXT NOT NULL, tenant_id TEXT NOT NULL, route TEXT NOT NULL, provider TEXT NOT NULL,
            model TEXT NOT NULL, origin TEXT NOT NULL,
            calls INTEGER NOT NULL,
            ok INTEGER NOT NULL, errors INTEGER NOT NULL, blocked INTEGER NOT NULL, cached INTEGER NOT NULL,
            rate_limited INTEGER NOT NULL, budget INTEGER NOT NULL, invalid_output INTEGER NOT NULL,
            error_classes TEXT NOT NULL,
            cache_hits INTEGER NOT NULL, cache_joined INTEGER NOT NULL, retried INTEGER NOT NULL,
            fell_back INTEGER NOT NULL, paced INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL, cached_input_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
            cost_nano_usd INTEGER NOT NULL, cost_unknown INTEGER NOT NULL, saved_nano_usd INTEGER NOT NULL,
            latency_ms_sum REAL NOT NULL, latency_hist BLOB, ttft_hist BLOB,
            PRIMARY KEY (bucket_start, user_id, tenant_id, route, provider, model, origin)
        ) WITHOUT ROWID;

        -- Full-text index over the stored (redacted) bodies and error messages, kept by triggers.
        CREATE VIRTUAL TABLE calls_fts USING fts5(
            request_body, response_body, error_message, content='calls', content_rowid='id'
        );
        CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls
        WHEN new.request_body IS NOT NULL OR new.response_body IS NOT NULL OR new.error_message IS NOT NULL
        BEGIN
            INSERT INTO calls_fts(rowid, request_body, response_body, error_message)
            VALUES (new.id, new.request_body, new.response_body, new.error_message);
        END;
        CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls
        WHEN old.request_body IS NOT NULL OR old.response_body IS NOT NULL OR old.error_message IS NOT NULL
        BEGIN
            INSERT INTO calls_fts(calls_fts, rowid, request_body, response_body, error_message)
            VALUES ('delete', old.id, old.request_body, old.response_body, old.error_message);
        END;
        """
}
