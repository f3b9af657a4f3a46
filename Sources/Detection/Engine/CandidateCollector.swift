/// Collects Vectorscan match ends during one scan, cheaply: consecutive ends of the same rule that
/// lie close together are merged into one range, so dense input (a rule firing at every byte of a
/// long random string) costs O(1) per event and one confirmation window instead of thousands.
final class CandidateCollector {
    /// A run of match ends for one rule.
    struct Candidate {
        var rule: Int
        var firstEnd: Int
        var lastEnd: Int
    }

    /// Ends closer than this are merged into one candidate.
    static let mergeGap = 1024

    private let ruleCount: Int
    private var openFirst: [Int]
    private var openLast: [Int]
    private var touched: [Int] = []
    private var closed: [Candidate] = []
    private(set) var keywordHits: [Bool]
    private var keywordsTouched = false
    private let triggerBase: Int
    /// Match ends of each decoding trigger, in order (bounded: past the cap the decoder gives up).
    private(set) var triggerEnds: [[Int]]
    static let maxTriggers = 200_000

    init(ruleCount: Int, keywordCount: Int, triggerCount: Int) {
        self.ruleCount = ruleCount
        triggerBase = ruleCount + keywordCount
        triggerEnds = Array(repeating: [], count: triggerCount)
        openFirst = Array(repeating: -1, count: ruleCount)
        openLast = Array(repeating: -1, count: ruleCount)
        keywordHits = Array(repeating: false, count: keywordCount)
    }

    /// Called from the Vectorscan callback: ids below `ruleCount` are rules, the rest keywords.
    @inline(__always)
    func record(id: UInt32, end: Int) {
        let r = Int(id)
        if r >= triggerBase {
            let t = r - triggerBase
            if triggerEnds[t].count < Self.maxTriggers { triggerEnds[t].append(end) }
            return
        }
        if r >= ruleCount {
            keywordHits[r - ruleCount] = true
            keywordsTouched = true
            return
        }
        let first = openFirst[r]
        if first < 0 {
            openFirst[r] = end
            openLast[r] = end
            touched.append(r)
        } else if end - openLast[r] <= Self.mergeGap {
            if end > openLast[r] { openLast[r] = end }
        } else {
            closed.append(Candidate(rule: r, firstEnd: first, lastEnd: openLast[r]))
            openFirst[r] = end
            openLast[r] = end
        }
    }

    /// Returns every candidate (grouped by rule, in end order within a rule) and resets for the next scan.
    func drain() -> [Candidate] {
        for r in touched {
            closed.append(Candidate(rule: r, firstEnd: openFirst[r], lastEnd: openLast[r]))
            openFirst[r] = -1
            openLast[r] = -1
        }
        touched.removeAll(keepingCapacity: true)
        var result = closed
        closed.removeAll(keepingCapacity: true)
        result.sort { $0.rule != $1.rule ? $0.rule < $1.rule : $0.firstEnd < $1.firstEnd }
        return result
    }

    /// Clears keyword hits and decoding triggers before a scan.
    func resetKeywords() {
        for t in triggerEnds.indices where !triggerEnds[t].isEmpty { triggerEnds[t].removeAll(keepingCapacity: true) }
        guard keywordsTouched else { return }
        for i in keywordHits.indices { keywordHits[i] = false }
        keywordsTouched = false
    }
}
