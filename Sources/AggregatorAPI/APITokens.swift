import GridLedgerRecords
import Crypto
import Foundation
public import LedgerCore
import Yams

/// Whom a bearer token stands for.
public enum TokenHolder: Sendable, Hashable {
    /// A named service account (`- name: ops, sha256: …, role: operator`): only operator or auditor.
    case named(String, role: MemberRole)
    /// A community member (`- member: alice, sha256: …`); the role comes from the registry at
    /// request time, so a member the registry does not know reads nothing.
    case member(String)

    /// The name that appears as a registry entry's author and in logs.
    public var name: String {
        switch self {
        case .named(let name, _): name
        case .member(let id): id
        }
    }
}

/// Why the tokens file is refused: the file, the entry and its line, and what is wrong.
public struct TokenFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The tokens file.
    public var file: String
    /// The line of the offending entry, when known.
    public var line: Int?
    /// What is wrong, naming the entry.
    public var reason: String

    /// An error about `file`.
    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}

/// The API's bearer tokens: only their SHA-256 hashes and holders are kept. A presented token is
/// hashed and compared with every entry in constant time, so neither the comparison nor the
/// position of a match leaks through timing.
///
/// The file (docs/API.md, "Tokens") is a YAML list:
/// ```yaml
/// - name: ops                 # an operator or auditor account
///   sha256: 5e884898da28…     # sha256sum of the token, 64 hex digits
///   role: operator
/// - member: alice             # a community member; role from the registry
///   sha256: 2c26b46b68ff…
/// ```
public struct APITokens: Sendable {
    struct Entry: Sendable {
        var hash: [UInt8]
        var holder: TokenHolder
    }

    let entries: [Entry]

    /// No tokens: only unauthenticated reads.
    public init() { entries = [] }

    /// Tokens from their hashes (what the file holds).
    public init(hashes: [(sha256: [UInt8], holder: TokenHolder)]) {
        entries = hashes.map { Entry(hash: $0.sha256, holder: $0.holder) }
    }

    /// How many tokens there are.
    public var count: Int { entries.count }

    /// SHA-256 of a token as the file stores it (`printf %s TOKEN | sha256sum`).
    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The holder of `token`, or nil. Looks at every entry whatever matches.
    public func holder(of token: String) -> TokenHolder? {
        let presented = Self.hash(token)
        var found: Int = -1
        for (index, entry) in entries.enumerated() {
            var difference: UInt8 = 0
            for (a, b) in zip(entry.hash, presented) { difference |= a ^ b }
            // Branch-free select: keeps the index of a match without an early exit.
            let match = Int(difference == 0 && entry.hash.count == presented.count ? 1 : 0)
            found = match * index + (1 - match) * found
        }
        return found >= 0 ? entries[found].holder : nil
    }

    /// Reads the tokens file, refusing one that group or others may access (like ssh does with
    /// private keys) and any malformed entry.
    public static func load(path: String) throws(TokenFileError) -> APITokens {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw TokenFileError(file: path, reason: "cannot read the tokens file: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw TokenFileError(file: path, reason: "the tokens file is not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw TokenFileError(
                file: path,
                reason: "the tokens file is accessible by group or others (mode \(String(mode, radix: 8))); run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenFileError(file: path, reason: "cannot read the tokens file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TokenFileError(file: path, reason: "the tokens file is not UTF-8 text") }
        return try parse(yaml: text, file: path)
    }

    static let namedKeys: Set<String> = ["name", "sha256", "role"]
    static let memberKeys: Set<String> = ["member", "sha256"]

    /// Parses the file's text; `file` names it in errors.
    public static func parse(yaml: String, file: String) throws(TokenFileError) -> APITokens {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw TokenFileError(file: file, reason: "not valid YAML: \(error)")
        }
        guard let root else { return APITokens() }
        guard case .sequence(let items) = root else {
            throw TokenFileError(file: file, line: root.mark?.line, reason: "expected a list of token entries (- name: …, sha256: …, role: …)")
        }
        var entries: [Entry] = []
        var seenHashes: Set<[UInt8]> = []
        for (index, item) in items.enumerated() {
            let line = item.mark?.line
            func fail(_ reason: String) -> TokenFileError { TokenFileError(file: file, line: line, reason: "entry \(index + 1): \(reason)") }
            guard case .mapping(let mapping) = item else { throw fail("expected a mapping with sha256 and name/role or member") }
            var fields: [String: String] = [:]
            for (key, value) in mapping {
                let name = key.string ?? "?"
                guard case .scalar(let scalar) = value else { throw fail("'\(name)' must be a single value") }
                guard fields[name] == nil else { throw fail("'\(name)' appears twice") }
                fields[name] = scalar.string
            }
            let keys = Set(fields.keys)
            let holder: TokenHolder
            if keys.contains("member") {
                guard keys.isSubset(of: memberKeys) else {
                    throw fail("unknown key(s) \(keys.subtracting(memberKeys).sorted().joined(separator: ", ")) (a member entry has member and sha256; its role comes from the registry)")
                }
                let id = fields["member"]!
                guard isIdentifier(id, maximum: 64) else { throw fail("member '\(id)' must be 1…64 characters of [A-Za-z0-9._:-]") }
                holder = .member(id)
            } else if keys.contains("name") {
                guard keys.isSubset(of: namedKeys) else {
                    throw fail("unknown key(s) \(keys.subtracting(namedKeys).sorted().joined(separator: ", ")) (known: name, sha256, role)")
                }
                let name = fields["name"]!
                guard isIdentifier(name, maximum: 64) else { throw fail("name '\(name)' must be 1…64 characters of [A-Za-z0-9._:-]") }
                guard let roleText = fields["role"] else { throw fail("a named token needs a role (operator or auditor)") }
                guard let role = MemberRole(rawValue: roleText), role.readsEverything else {
                    throw fail("role '\(roleText)' must be operator or auditor (members get tokens with 'member: <id>')")
                }
                holder = .named(name, role: role)
            } else {
                throw fail("needs either 'name' (with role) or 'member'")
            }
            guard let hashText = fields["sha256"] else { throw fail("sha256 is missing (the hex SHA-256 of the token)") }
            guard hashText.utf8.count == 64, let hash = Hex.decode(hashText) else {
                throw fail("sha256 must be 64 hex digits (the output of sha256sum), not the token itself")
            }
            guard seenHashes.insert(hash).inserted else { throw fail("the same sha256 appears in an earlier entry") }
            entries.append(Entry(hash: hash, holder: holder))
        }
        return APITokens(entries: entries)
    }

    private init(entries: [Entry]) { self.entries = entries }
}

/// 1…`maximum` characters of `[A-Za-z0-9._:-]`: the identifiers of records and the registry.
func isIdentifier(_ text: some StringProtocol, maximum: Int) -> Bool {
    (1...maximum).contains(text.utf8.count) && text.utf8.allSatisfy(isIdentifierByte)
}
