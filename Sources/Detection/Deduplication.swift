/// Folds the same secret seen in many versions of a file (every blob of a long-lived config file
/// holds it) into one finding: the earliest introduction, with the others listed when asked.
public enum FindingDeduplication {
    /// One finding per fingerprint: the earliest in the history walk (then date, commit id, line).
    public static func keepingFirstIntroduction(_ findings: [Finding], listOthers: Bool) -> [Finding] {
        var groups = [String: [Finding]]()
        var order = [String]()
        for finding in findings {
            if groups[finding.fingerprint] == nil { order.append(finding.fingerprint) }
            groups[finding.fingerprint, default: []].append(finding)
        }
        var result = [Finding]()
        result.reserveCapacity(order.count)
        for key in order {
            guard let group = groups[key] else { continue }
            let sorted = group.sorted {
                ($0.provenance.order, $0.provenance.date, $0.commit, $0.startLine)
                    < ($1.provenance.order, $1.provenance.date, $1.commit, $1.startLine)
            }
            guard var first = sorted.first else { continue }
            if listOthers {
                var seen = Set<String>([first.commit + "\u{0}" + first.file])
                for other in sorted.dropFirst() where seen.insert(other.commit + "\u{0}" + other.file).inserted {
                    first.otherOccurrences.append(other.provenance)
                }
            }
            result.append(first)
        }
        return result
    }
}
