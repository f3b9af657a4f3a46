import Detection
import Foundation

/// Masks `secret` the way gitleaks' `--redact=PERCENT` does: keep the first (100 - percent)% of
/// its UTF-8 bytes (rounded half to even) and append `...`; 100 (or more) gives `REDACTED`, 0 (or
/// less) the secret unchanged. Unlike gitleaks the cut never splits a character, so a non-ASCII
/// secret never turns into U+FFFD; for ASCII secrets the result is identical.
public func redactedSecret(_ secret: String, percent: Int) -> String {
    if percent <= 0 { return secret }
    if percent >= 100 { return "REDACTED" }
    let length = Double(secret.utf8.count)
    if length == 0 { return secret }
    let keepBytes = Int((length * Double(100 - percent) / 100).rounded(.toNearestOrEven))
    var kept = ""
    var used = 0
    for character in secret {
        let size = character.utf8.count
        if used + size > keepBytes { break }
        kept.append(character)
        used += size
    }
    return kept + "..."
}

extension Finding {
    /// This finding with `secret` masked by `redactedSecret(_:percent:)` and every occurrence of
    /// the secret in `match` and `line` replaced by the same mask, as gitleaks' `Redact` does.
    /// When the match does not contain the secret verbatim (a decoded secret, a rule without a
    /// secret group) the match itself is masked, so no form of the secret survives at 100.
    /// Fields derived from the unmasked secret (`fingerprint`) are left alone.
    public func redacted(percent: Int) -> Finding {
        guard percent > 0, !(secret.isEmpty && match.isEmpty) else { return self }
        var copy = self
        let maskedMatch: String
        if !secret.isEmpty {
            let maskedSecret = redactedSecret(secret, percent: percent)
            copy.secret = maskedSecret
            copy.line = line.replacingAll(secret, with: maskedSecret)
            maskedMatch = match.contains(secret) ? match.replacingAll(secret, with: maskedSecret)
                                                 : redactedSecret(match, percent: percent)
        } else {
            maskedMatch = redactedSecret(match, percent: percent)
        }
        copy.match = maskedMatch
        if !match.isEmpty && maskedMatch != match {
            copy.line = copy.line.replacingAll(match, with: maskedMatch)
        }
        return copy
    }
}

extension String {
    /// Replaces every non-overlapping occurrence of `target`, scanning left to right.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, !isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        out += rest
        return out
    }
}
