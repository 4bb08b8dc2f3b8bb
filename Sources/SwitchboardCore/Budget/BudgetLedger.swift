import Foundation
import SwitchboardWire

/// The budgets of users and tenants over the state store: reserve a call's worst case before it
/// is sent, settle to its real cost after. The pipeline uses one; `switchboard bench budget`
/// measures one.
public final class BudgetLedger: Sendable {
    /// A reservation held by a call in flight.
    public struct Hold: Sendable {
        /// `user ada` or `tenant acme`.
        var owner: String
        var storeKey: String
        var nanoUSD: Int64
        var reservedAt: Date
        var softNanoUSD: Int64
        var hardNanoUSD: Int64
        var period: String
    }

    let store: any StateStore
    let settings: SwitchboardConfiguration.Budgets

    public init(store: any StateStore, settings: SwitchboardConfiguration.Budgets) {
        self.store = store
        self.settings = settings
    }

    /// The accounts a call spends from: its user's (the user's own budget, else the default) and
    /// its tenant's when the tenant has one.
    /// - Parameter own: the caller's own budget (a virtual key's), instead of its user's.
    func accounts(userID: String?, tenantID: String?, own: SwitchboardConfiguration.Budgets.Limit? = nil) -> [(
        owner: String, kind: String, id: String, limit: SwitchboardConfiguration.Budgets.Limit
    )] {
        var accounts: [(String, String, String, SwitchboardConfiguration.Budgets.Limit)] = []
        if let userID {
            accounts.append(("user \(userID)", "user", userID, own ?? settings.users[userID] ?? settings.defaultUser))
        }
        if let tenantID, let limit = settings.tenants[tenantID] {
            accounts.append(("tenant \(tenantID)", "tenant", tenantID, limit))
        }
        return accounts
    }

    /// Reserves `worstCase` in every account of the call.
    /// - Throws: ``SwitchboardError`` `budget_exceeded` naming the account that is spent (nothing
    ///   stays reserved then).
    public func reserve(
        userID: String?,
        tenantID: String?,
        own: SwitchboardConfiguration.Budgets.Limit? = nil,
        worstCase: Int64,
        now: Date
    ) async throws -> [Hold] {
        let (period, renews) = settings.period.period(containing: now)
        var holds: [Hold] = []
        for account in accounts(userID: userID, tenantID: tenantID, own: own) {
            let key = "budget/\(account.kind)/\(account.id)/\(period)"
            let hard = account.limit.hardNanoUSD
            let (granted, spent) = try await store.update(key, as: BudgetAccount.self) { state in
                var budget = state ?? BudgetAccount()
                let granted = budget.reserve(worstCase, limit: hard, now: now)
                state = budget
                return (granted, budget.spentNanoUSD + budget.reservedNanoUSD(now: now))
            }
            guard granted else {
                try await release(holds)
                throw SwitchboardError(
                    .budgetExceeded,
                    "the \(settings.period.adjective) budget of \(account.owner) is spent: \(Self.usd(spent)) of \(Self.usd(hard)) spent or reserved, and this call may cost up to \(Self.usd(worstCase)); it renews at \(Self.timestamp(renews)) UTC, or an operator can raise it (budgets in the configuration)"
                )
            }
            holds.append(
                Hold(
                    owner: account.owner,
                    storeKey: key,
                    nanoUSD: worstCase,
                    reservedAt: now,
                    softNanoUSD: account.limit.softNanoUSD,
                    hardNanoUSD: hard,
                    period: period
                )
            )
        }
        return holds
    }

    /// Settles every hold to the call's real cost.
    /// - Returns: the holds whose account this call took past its soft limit, with what is spent.
    @discardableResult
    public func settle(_ holds: [Hold], cost: Int64) async throws -> [(hold: Hold, spent: Int64)] {
        var crossed: [(Hold, Int64)] = []
        for hold in holds {
            let (before, after) = try await store.update(hold.storeKey, as: BudgetAccount.self) { state in
                var budget = state ?? BudgetAccount()
                let result = budget.settle(reserved: hold.nanoUSD, reservedAt: hold.reservedAt, cost: cost)
                state = budget
                return result
            }
            if before < hold.softNanoUSD, after >= hold.softNanoUSD { crossed.append((hold, after)) }
        }
        return crossed
    }

    private func release(_ holds: [Hold]) async throws {
        _ = try await settle(holds, cost: 0)
    }

    /// `$49.99`, `$0.000240`: cents, or micro-dollars below a cent.
    static func usd(_ nanoUSD: Int64) -> String {
        if nanoUSD >= 10_000_000 || nanoUSD == 0 {
            let cents = (nanoUSD + 5_000_000) / 10_000_000
            return "$\(cents / 100).\(String(format: "%02d", cents % 100))"
        }
        return "$0.\(String(format: "%06d", (nanoUSD + 500) / 1_000))"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date).replacingOccurrences(of: "T", with: " ")
    }
}
