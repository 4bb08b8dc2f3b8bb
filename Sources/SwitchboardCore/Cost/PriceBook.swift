import Foundation
import SwitchboardConfigReader
import SwitchboardJournal
import SwitchboardWire

/// Prices of one model in one tier, in integer nano-dollars per million tokens (so $0.075 per
/// million tokens is 75,000,000): every cost is exact integer arithmetic.
public struct TokenPrices: Sendable, Equatable {
    public var input: Int64
    /// A cache read; `nil` charges the input price.
    public var cachedInput: Int64?
    /// A 5-minute cache write; `nil` charges 1.25 × input (Anthropic) or input (OpenAI).
    public var cacheWrite5m: Int64?
    /// A 1-hour cache write; `nil` charges 2 × input (Anthropic) or input (OpenAI).
    public var cacheWrite1h: Int64?
    public var output: Int64

    public init(
        input: Int64,
        cachedInput: Int64? = nil,
        cacheWrite5m: Int64? = nil,
        cacheWrite1h: Int64? = nil,
        output: Int64
    ) {
        self.input = input
        self.cachedInput = cachedInput
        self.cacheWrite5m = cacheWrite5m
        self.cacheWrite1h = cacheWrite1h
        self.output = output
    }

    /// Prices read by key (`input`, `cached_input`, `cache_write_5m`, `cache_write_1h`,
    /// `output`); `nil` when the input or the output price is missing.
    init?<Failure: Error>(lookup price: (String) throws(Failure) -> Int64?) throws(Failure) {
        guard let input = try price("input"), let output = try price("output") else { return nil }
        self.init(
            input: input,
            cachedInput: try price("cached_input"),
            cacheWrite5m: try price("cache_write_5m"),
            cacheWrite1h: try price("cache_write_1h"),
            output: output
        )
    }
}

/// What one model costs.
public struct ModelPrices: Sendable, Equatable {
    public var provider: APIFormat
    public var standard: TokenPrices
    /// The long-context tier: above `aboveInputTokens` of input (cached and written included),
    /// every token of the call is charged at `prices`.
    public var longContext: (aboveInputTokens: Int, prices: TokenPrices)?
    /// When the provider retires the model, as published.
    public var deprecated: String?
    /// The shortest prompt the provider caches, in tokens, when published.
    public var promptCacheMinTokens: Int?

    public init(
        provider: APIFormat,
        standard: TokenPrices,
        longContext: (aboveInputTokens: Int, prices: TokenPrices)? = nil,
        deprecated: String? = nil
    ) {
        self.provider = provider
        self.standard = standard
        self.longContext = longContext
        self.deprecated = deprecated
    }

    public static func == (left: ModelPrices, right: ModelPrices) -> Bool {
        left.provider == right.provider && left.standard == right.standard && left.deprecated == right.deprecated
            && left.promptCacheMinTokens == right.promptCacheMinTokens
            && left.longContext?.aboveInputTokens == right.longContext?.aboveInputTokens
            && left.longContext?.prices == right.longContext?.prices
    }

    /// What reading the provider's prompt cache saved on `tokens`: the cached input at the input
    /// price less what it cost at the cached price.
    public func promptCacheSavings(_ tokens: TokenCounts) -> Int64 {
        var prices = standard
        if let longContext, tokens.totalInput > longContext.aboveInputTokens { prices = longContext.prices }
        let perMillion = Int64(tokens.cachedInput) * (prices.input - (prices.cachedInput ?? prices.input))
        return max(0, (perMillion + 500_000) / 1_000_000)
    }

    /// The exact cost of `tokens` in nano-dollars, rounded half up once over the whole call.
    public func cost(_ tokens: TokenCounts) -> Int64 {
        var prices = standard
        if let longContext, tokens.totalInput > longContext.aboveInputTokens { prices = longContext.prices }
        let anthropic = provider == .anthropic
        let write5m = prices.cacheWrite5m ?? (anthropic ? prices.input * 5 / 4 : prices.input)
        let write1h = prices.cacheWrite1h ?? (anthropic ? prices.input * 2 : prices.input)
        let perMillion =
            Int64(tokens.input) * prices.input + Int64(tokens.cachedInput) * (prices.cachedInput ?? prices.input)
            + Int64(tokens.cacheWrite5m) * write5m + Int64(tokens.cacheWrite1h) * write1h
            + Int64(tokens.output) * prices.output
        return (perMillion + 500_000) / 1_000_000
    }
}

/// Why a price book or its override file cannot be used.
public struct PriceBookError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The prices of every OpenAI and Anthropic chat model Switchboard knows, shipped with it
/// (`Resources/price-book.json`, built by `scripts/build-price-book.py`), plus the operator's
/// override file (`pricing.overrides_file`).
public struct PriceBook: Sendable {
    public private(set) var models: [String: ModelPrices]

    public init(models: [String: ModelPrices]) {
        self.models = models
    }

    /// The book shipped with Switchboard.
    public static func bundled() throws(PriceBookError) -> PriceBook {
        guard let url = Bundle.module.url(forResource: "price-book", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else {
            throw PriceBookError(
                "the bundled price book (price-book.json) is missing from this build; rebuild Switchboard"
            )
        }
        do {
            return try PriceBook(json: try JSONValue.parse(Array(data)))
        } catch {
            throw PriceBookError("the bundled price book is unreadable: \(error)")
        }
    }

    /// The shipped book with the configuration's override file applied.
    public static func load(overridesFile: String?) throws(PriceBookError) -> PriceBook {
        var book = try bundled()
        if let overridesFile {
            do {
                try book.apply(overrides: try ConfigNode.load(path: overridesFile))
            } catch {
                throw PriceBookError("\(error) (in the price override file pricing.overrides_file)")
            }
        }
        return book
    }

    /// Reads the price-book format: `{"models": {"name": {"provider", "input", "cached_input",
    /// "cache_write_5m", "cache_write_1h", "output", "long_context": {"above_input_tokens", …}}}}`,
    /// prices in USD per million tokens as decimal strings.
    init(json: JSONValue) throws(PriceBookError) {
        guard let entries = json["models"]?.objectValue else { throw PriceBookError("no \"models\" object") }
        var models: [String: ModelPrices] = [:]
        for (name, entry) in entries {
            func text(_ value: JSONValue?) -> String? {
                value?.stringValue ?? value?.intValue.map(String.init)
            }
            func prices(_ object: JSONValue) throws(PriceBookError) -> TokenPrices {
                func price(_ key: String) throws(PriceBookError) -> Int64? {
                    guard let value = text(object[key]) else { return nil }
                    guard let nano = NanoUSD.parse(value) else {
                        throw PriceBookError("\(name).\(key): '\(value)' is not a price in USD per million tokens")
                    }
                    return nano
                }
                guard let prices = try TokenPrices(lookup: price) else {
                    throw PriceBookError("\(name): input and output prices are required")
                }
                return prices
            }
            guard let provider = entry["provider"]?.stringValue.flatMap(APIFormat.init(rawValue:)) else {
                throw PriceBookError("\(name): provider must be openai or anthropic")
            }
            var model = ModelPrices(provider: provider, standard: try prices(entry))
            if let long = entry["long_context"], let above = long["above_input_tokens"]?.intValue {
                model.longContext = (above, try prices(long))
            }
            model.deprecated = entry["deprecated"]?.stringValue
            model.promptCacheMinTokens = entry["prompt_cache_min_tokens"]?.intValue
            models[name] = model
        }
        self.models = models
    }

    /// Applies an override file: `models: { name: { provider: openai, input: 0.30, cached_input:
    /// 0.15, output: 1.20, long_context: { above_input_tokens: 200000, input: …, output: … } } }`.
    /// A model named here replaces the shipped entry whole.
    mutating func apply(overrides root: ConfigNode) throws(ConfigError) {
        try root.requireKnownKeys(["models"])
        guard let section = try root.member("models") else { return }
        let priceKeys = ["input", "cached_input", "cache_write_5m", "cache_write_1h", "output"]
        func prices(_ node: ConfigNode) throws(ConfigError) -> TokenPrices {
            func price(_ key: String) throws(ConfigError) -> Int64? {
                guard let value = try node.member(key) else { return nil }
                let text = try value.string()
                guard let nano = NanoUSD.parse(text) else {
                    throw value.error("expected a price in USD per million tokens, such as 0.15, got '\(text)'")
                }
                return nano
            }
            guard let prices = try TokenPrices(lookup: price) else {
                throw node.error("input and output are required (USD per million tokens)")
            }
            return prices
        }
        for (name, node) in try section.members() {
            try node.requireKnownKeys(["provider"] + priceKeys + ["long_context"])
            let provider: APIFormat
            if let value = try node.member("provider") {
                provider = APIFormat(rawValue: try value.oneOf(["openai", "anthropic"]))!
            } else if let known = models[name]?.provider {
                provider = known
            } else {
                throw node.error("provider is required for a model the price book does not know (openai or anthropic)")
            }
            var model = ModelPrices(provider: provider, standard: try prices(node))
            if let long = try node.member("long_context") {
                try long.requireKnownKeys(["above_input_tokens"] + priceKeys)
                guard let above = try long.member("above_input_tokens")?.int() else {
                    throw long.error("above_input_tokens is required")
                }
                model.longContext = (above, try prices(long))
            }
            models[name] = model
        }
    }

    /// The prices of `model`: its own entry, else the entry of the alias its dated snapshot
    /// belongs to (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, `claude-haiku-4-5-20251001` →
    /// `claude-haiku-4-5`); `nil` when the model is unknown.
    public func prices(for model: String) -> ModelPrices? {
        if let prices = models[model] { return prices }
        // A date suffix: `-2024-07-18` or `-20251001` (no pattern compiled on every call's path).
        let characters = Array(model)
        func digits(_ range: Range<Int>) -> Bool {
            range.allSatisfy { characters[$0].isASCII && characters[$0].isNumber }
        }
        let count = characters.count
        if count > 11, characters[count - 11] == "-", characters[count - 6] == "-", characters[count - 3] == "-",
            digits(count - 10..<count - 6), digits(count - 5..<count - 3), digits(count - 2..<count)
        {
            return models[String(characters[..<(count - 11)])]
        }
        if count > 9, characters[count - 9] == "-", digits(count - 8..<count) {
            return models[String(characters[..<(count - 9)])]
        }
        return nil
    }

    /// The cost of `tokens` on `model` in nano-dollars; `nil` when the model's price is unknown
    /// (journaled as unknown, never as zero).
    public func cost(_ tokens: TokenCounts, model: String) -> Int64? {
        prices(for: model)?.cost(tokens)
    }
}

/// Dollar amounts as integer nano-dollars (1 USD = 10⁹), the unit of every cost, budget and price.
enum NanoUSD {
    /// `"0.075"` → 75,000,000; `"$12.50"` → 12,500,000,000. At most nine decimals; `nil` for
    /// anything else (negative, exponent, too large).
    static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.hasPrefix("$") { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts[0].allSatisfy(\.isASCII), let whole = Int64(parts[0]), whole >= 0,
            whole < 1_000_000_000
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let decimals = parts[1]
            guard !decimals.isEmpty, decimals.count <= 9, decimals.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int64(decimals)
            else { return nil }
            fraction = value
            for _ in decimals.count..<9 { fraction *= 10 }
        }
        return whole * 1_000_000_000 + fraction
    }
}
