import Foundation

/// Judges ConfigMap entries, container `env` values and Helm values by their key *and* their value,
/// so `password_min_length: "8"`, `token_ttl: 3600` or `secret_name: my-secret` are not reported:
/// the key must name a credential (the credential word is its subject, not a qualifier), and the
/// value must look like one (not a number, boolean, duration, path, URL without userinfo or object name).
enum CredentialHeuristics {
    /// Words that name a credential on their own (`db_password`, `client-secret`, `GITHUB_TOKEN`).
    private static let credentialWords: Set<String> = [
        "password", "passwd", "passwort", "pwd", "pass", "passphrase", "secret", "secrets", "token", "apikey",
        "credential", "credentials", "creds", "dsn", "authorization", "privatekey", "accesskey", "secretkey",
    ]

    /// `<word> key` pairs that name a credential (`api_key`, `signing-key`, `encryptionKey`).
    private static let keyQualifiers: Set<String> = [
        "api", "access", "private", "secret", "signing", "sign", "encryption", "encrypt", "master", "auth", "client",
        "license", "session", "hmac", "jwt", "shared", "account", "service", "admin", "root", "subscription", "webhook",
        "app", "consumer", "cipher", "aes", "crypt",
    ]

    /// Trailing words that keep the credential word the subject: `password_value`, `SECRET_KEY_BASE`, `token_prod`.
    private static let neutralSuffixes: Set<String> = [
        "value", "base", "b64", "base64", "raw", "plain", "plaintext", "encoded", "hex", "prod", "production", "dev",
        "staging", "live",
    ]

    /// Leading words that make the whole key a switch or a question about a credential, not one.
    private static let switchPrefixes: Set<String> = [
        "enable", "enabled", "disable", "disabled", "use", "require", "required", "is", "has", "allow", "skip", "no",
        "show", "hide", "with", "without",
    ]

    /// Whether `key` names a credential: `db_password`, `apiKey`, `client-secret`, `postgresql.auth.password`
    /// yes; `password_min_length`, `token_ttl`, `secret_name`, `password_file`, `tokenizer`, `enable_auth_token` no.
    static func isCredentialKey(_ key: String) -> Bool {
        var words = self.words(of: key)
        while let last: String = words.last, neutralSuffixes.contains(last) || last.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { words.removeLast() }
        guard let last = words.last else { return false }
        if let first = words.first, words.count > 1, switchPrefixes.contains(first) { return false }
        if credentialWords.contains(last) { return true }
        let previous: String? = words.count >= 2 ? words[words.count - 2] : nil
        if last == "key", let previous, keyQualifiers.contains(previous) { return true }
        if last == "string" || last == "str", let previous, previous == "connection" || previous == "conn" { return true }
        return false
    }

    /// Lower-cased words of a key, split at punctuation, camelCase humps and digits (`APIKey2` → api, key, 2).
    /// Works on UTF-8 bytes (keys are ASCII in practice; other characters count as lower-case letters):
    /// it runs for every key of every manifest, where `Character` handling was a tenth of a scan.
    static func words(of key: String) -> [String] {
        var words = [String]()
        let bytes = Array(key.utf8)
        var start = -1
        func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
        func isLower(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || b >= 0x80 }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        func flush(_ end: Int) {
            if start >= 0 && end > start {
                words.append(String(decoding: bytes[start..<end].map { isUpper($0) ? $0 + 32 : $0 }, as: UTF8.self))
            }
            start = -1
        }
        for (i, c) in bytes.enumerated() {
            guard isUpper(c) || isLower(c) || isDigit(c) else { flush(i); continue }
            if start >= 0 {
                let previous = bytes[i - 1]
                if isDigit(c) && !isDigit(previous) {
                    flush(i)
                } else if isUpper(c) {
                    let nextIsLower = i + 1 < bytes.count && isLower(bytes[i + 1])
                    if isLower(previous) || isDigit(previous) || (isUpper(previous) && nextIsLower) { flush(i) }
                }
            }
            if start < 0 { start = i }
        }
        flush(bytes.count)
        return words
    }

    /// Whether `value` (already known not to be a placeholder or template) looks like a credential.
    static func looksLikeCredential(_ value: String) -> Bool {
        let v = value.trimmingSpaces()
        if hasUserinfoPassword(v) || hasPasswordParameter(v) { return true }
        let scalars = Array(v.unicodeScalars)
        guard scalars.count >= 6, scalars.count <= 4096 else { return false }
        if v.contains(where: { $0 == " " || $0 == "\t" }) { return false }            // prose, lists of words
        if isNumber(v) || isBoolean(v) || isDuration(v) || isSize(v) { return false }
        if isPath(v) || isURL(v) || isObjectName(v) { return false }
        // Shape: some entropy, and either several character classes or length.
        var classes = 0
        if v.contains(where: { $0.isLowercase }) { classes += 1 }
        if v.contains(where: { $0.isUppercase }) { classes += 1 }
        if v.contains(where: { $0.isNumber }) { classes += 1 }
        if v.contains(where: { !$0.isLetter && !$0.isNumber }) { classes += 1 }
        guard Entropy.shannon(v) >= 2.5 else { return false }
        return classes >= 2 || scalars.count >= 16
    }

    private static func isNumber(_ v: String) -> Bool {
        var s = Substring(v)
        if s.first == "+" || s.first == "-" { s = s.dropFirst() }
        guard !s.isEmpty else { return false }
        if s.hasPrefix("0x"), s.count > 2 { return s.dropFirst(2).allSatisfy(\.isHexDigit) }
        return Double(s) != nil
    }

    private static let booleans: Set<String> = ["true", "false", "yes", "no", "on", "off", "enabled", "disabled", "enable", "disable", "none", "null"]

    private static func isBoolean(_ v: String) -> Bool { booleans.contains(v.lowercased()) }

    /// `30s`, `1h30m`, `500ms`, `7d`, `PT15M`.
    private static func isDuration(_ v: String) -> Bool {
        let lower = v.lowercased()
        if lower.hasPrefix("pt") || lower.hasPrefix("p") {
            let rest = lower.drop { $0 == "p" || $0 == "t" }
            if !rest.isEmpty, rest.allSatisfy({ $0.isNumber || "dhmsw.".contains($0) }), rest.first?.isNumber == true { return true }
        }
        var i = lower.startIndex
        var sawUnit = false
        while i < lower.endIndex {
            let digitsStart = i
            while i < lower.endIndex, lower[i].isNumber || lower[i] == "." { i = lower.index(after: i) }
            guard i > digitsStart else { return false }
            let unitStart = i
            while i < lower.endIndex, lower[i].isLetter || lower[i] == "µ" { i = lower.index(after: i) }
            let unit = lower[unitStart..<i]
            guard ["ns", "us", "µs", "ms", "s", "m", "h", "d", "w", "y", "sec", "secs", "min", "mins", "hour", "hours",
                   "day", "days", "seconds", "minutes"].contains(String(unit)) else { return false }
            sawUnit = true
        }
        return sawUnit
    }

    /// `512Mi`, `2GB`, `100k`.
    private static func isSize(_ v: String) -> Bool {
        let digits = v.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty else { return false }
        let unit = v.dropFirst(digits.count).lowercased()
        return ["k", "m", "g", "t", "p", "ki", "mi", "gi", "ti", "pi", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "b"].contains(unit)
    }

    private static func isPath(_ v: String) -> Bool {
        if v.hasPrefix("/") || v.hasPrefix("./") || v.hasPrefix("../") || v.hasPrefix("~/") || v.hasPrefix("file:") { return true }
        let scalars = Array(v.unicodeScalars)
        return scalars.count > 2 && scalars[0].properties.isAlphabetic && scalars[1] == ":" && scalars[2] == "\\"
    }

    /// `scheme://host/...` with no `user:password@`.
    private static func isURL(_ v: String) -> Bool {
        guard let schemeEnd = v.range(of: "://") else { return false }
        let scheme = v[..<schemeEnd.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }) else { return false }
        return !hasUserinfoPassword(v)
    }

    /// `scheme://user:password@host` with a non-empty password.
    static func hasUserinfoPassword(_ v: String) -> Bool {
        guard let schemeEnd = v.range(of: "://") else { return false }
        let authority = v[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return false }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return false }
        let password = userinfo[userinfo.index(after: colon)...]
        return password.count >= 3 && !password.hasPrefix("$") && !password.hasPrefix("{") && !password.hasPrefix("<")
    }

    /// `Server=db;User Id=app;Password=...` (connection strings).
    private static func hasPasswordParameter(_ v: String) -> Bool {
        let lower = v.lowercased()
        for marker in ["password=", "pwd="] {
            var searchStart = lower.startIndex
            while let r = lower.range(of: marker, range: searchStart..<lower.endIndex) {
                let isWordStart = r.lowerBound == lower.startIndex || !lower[lower.index(before: r.lowerBound)].isLetter
                let value = lower[r.upperBound...].prefix { $0 != ";" && $0 != "&" && $0 != " " && $0 != "\"" && $0 != "'" }
                if isWordStart, value.count >= 4, !value.hasPrefix("$"), !value.hasPrefix("{"), !value.hasPrefix("<") { return true }
                searchStart = r.upperBound
            }
        }
        return false
    }

    /// Kubernetes object names and references (`my-secret`, `db-credentials`, `redis.cache.svc`,
    /// `bert-base-uncased`, `v2`): DNS-1123 names whose parts are each words or numbers.
    private static func isObjectName(_ v: String) -> Bool {
        let parts = v.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, let last = part.last, first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
            let segments = part.split { $0 == "-" || $0 == "." || $0 == "_" }
            return segments.allSatisfy { s in
                (s.allSatisfy { $0.isLowercase && $0.isASCII }) || s.allSatisfy { $0.isNumber && $0.isASCII }
                    || (s.first?.isLowercase == true && s.dropFirst().allSatisfy { $0.isNumber } && s.count <= 3)  // v2, v10
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs: the whitespace YAML and JSON values carry.
    /// (Foundation's `trimmingCharacters(in:)` goes through NSString: slow on every manifest line.)
    func trimmingSpaces() -> String {
        let text = Substring(self)
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(text[first...last])
    }
}
