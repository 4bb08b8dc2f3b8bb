import OrderedCollections

extension OpenAI {
    /// The 13 categories of OpenAI's moderation endpoint, by their exact wire names, in the order
    /// the endpoint writes them.
    public enum ModerationCategory: String, CaseIterable, Sendable {
        case harassment
        case harassmentThreatening = "harassment/threatening"
        case hate
        case hateThreatening = "hate/threatening"
        case illicit
        case illicitViolent = "illicit/violent"
        case selfHarm = "self-harm"
        case selfHarmInstructions = "self-harm/instructions"
        case selfHarmIntent = "self-harm/intent"
        case sexual
        case sexualMinors = "sexual/minors"
        case violence
        case violenceGraphic = "violence/graphic"

        /// The input types a category is applied to: images only for self-harm, sexual and violence.
        public var acceptsImages: Bool {
            switch self {
            case .selfHarm, .selfHarmInstructions, .selfHarmIntent, .sexual, .violence, .violenceGraphic: true
            default: false
            }
        }
    }

    /// `POST /v1/moderations` request.
    public struct ModerationRequest: JSONRepresentable, Equatable {
        /// A string, an array of strings, or an array of multimodal parts.
        public var input: JSONValue
        /// `omni-moderation-latest` when absent.
        public var model: String?
        public var extra: JSONObject

        public init(input: JSONValue, model: String? = nil) {
            self.input = input
            self.model = model
            self.extra = [:]
        }

        /// The texts to classify, one result each: the string, each string of an array, or the
        /// text parts of a multimodal array (joined into one input).
        public var texts: [String] {
            switch input {
            case .string(let text): return [text]
            case .array(let elements):
                if elements.allSatisfy({ $0.stringValue != nil }) { return elements.compactMap(\.stringValue) }
                return [elements.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")]
            default: return []
            }
        }

        /// Whether any part of the input is an image.
        public var hasImage: Bool {
            input.arrayValue?.contains { $0["type"]?.stringValue == "image_url" } ?? false
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            input = try reader.required("input")
            model = try reader.optional("model")
            extra = reader.remaining()
            switch input {
            case .string, .array: break
            default:
                throw WireDecodingError.typeMismatch(
                    path.appending("input"),
                    expected: "a string or an array",
                    got: input
                )
            }
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("input", input)
            object.set("model", model)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// `POST /v1/moderations` response: one result per input.
    public struct ModerationResponse: JSONRepresentable, Equatable {
        public var id: String
        public var model: String
        public var results: [ModerationResult]
        public var extra: JSONObject

        public init(id: String, model: String, results: [ModerationResult]) {
            self.id = id
            self.model = model
            self.results = results
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            id = try reader.required("id")
            model = try reader.required("model")
            results = try reader.required("results")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("id", id)
            object.set("model", model)
            object.set("results", results)
            object.merge(extra: extra)
            return .object(object)
        }
    }

    /// The verdict on one input.
    public struct ModerationResult: JSONRepresentable, Equatable {
        public var flagged: Bool
        /// Category wire name → flagged. Legacy models omit `illicit` and `illicit/violent`.
        public var categories: OrderedDictionary<String, Bool>
        /// Category wire name → score in [0, 1].
        public var categoryScores: OrderedDictionary<String, Double>
        /// Category wire name → `["text"]`, `["image"]` or both; absent for legacy models.
        public var categoryAppliedInputTypes: OrderedDictionary<String, [String]>?
        public var extra: JSONObject

        public init(
            flagged: Bool,
            categories: OrderedDictionary<String, Bool>,
            categoryScores: OrderedDictionary<String, Double>,
            categoryAppliedInputTypes: OrderedDictionary<String, [String]>?
        ) {
            self.flagged = flagged
            self.categories = categories
            self.categoryScores = categoryScores
            self.categoryAppliedInputTypes = categoryAppliedInputTypes
            self.extra = [:]
        }

        public init(json: JSONValue, at path: JSONPath) throws {
            var reader = try JSONObjectReader(json, at: path)
            flagged = try reader.required("flagged")
            categories = try reader.required("categories")
            categoryScores = try reader.required("category_scores")
            categoryAppliedInputTypes = try reader.optional("category_applied_input_types")
            extra = reader.remaining()
        }

        public var json: JSONValue {
            var object = JSONObject()
            object.set("flagged", flagged)
            object.set("categories", categories)
            object.set("category_scores", categoryScores)
            object.set("category_applied_input_types", categoryAppliedInputTypes)
            object.merge(extra: extra)
            return .object(object)
        }
    }
}
