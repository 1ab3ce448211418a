import Crypto

/// Merkle tree hashing of RFC 6962 (2.1; RFC 9162 2.1): leaves and inner nodes are
/// domain-separated (0x00 and 0x01 prefixes), so a leaf can never pass for a node.
public enum MerkleTree {
    public static func leafHash(_ leaf: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: leaf)
        return Array(hasher.finalize())
    }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root over `leafHashes` (MTH of RFC 6962; the empty tree hashes to SHA-256 of nothing).
    public static func root(leafHashes: [[UInt8]]) -> [UInt8] {
        guard !leafHashes.isEmpty else { return Array(SHA256.hash(data: [UInt8]())) }
        return subtreeRoot(leafHashes[...])
    }

    /// The audit path for leaf `index` (PATH(m, D[n]) of RFC 6962 2.1.1), leaf to root.
    public static func auditPath(index: Int, leafHashes: [[UInt8]]) -> [[UInt8]] {
        auditPaths(leafHashes: leafHashes, indices: [index])[0]
    }

    /// Audit paths for several leaves of one tree, computing each subtree root once: a batch
    /// of n records costs O(n log n) hashes instead of O(n²).
    public static func auditPaths(leafHashes: [[UInt8]], indices: [Int]) -> [[[UInt8]]] {
        var memo: [Int: [UInt8]] = [:]
        return indices.map { index in
            precondition(leafHashes.indices.contains(index))
            return path(index, leafHashes[...], &memo)
        }
    }

    /// Checks that `leafHash` at `index` of a tree of `size` leaves has root `root`
    /// (RFC 9162 2.1.3.2).
    public static func verify(leafHash: [UInt8], index: UInt64, size: UInt64, path: [[UInt8]], root: [UInt8]) -> Bool {
        guard index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in path {
            guard sn != 0, p.count == 32 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    private static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    private static func subtreeRoot(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.count == 1 { return leaves.first! }
        let k = split(leaves.count)
        let middle = leaves.startIndex + k
        return nodeHash(subtreeRoot(leaves[..<middle]), subtreeRoot(leaves[middle...]))
    }

    private static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>, _ memo: inout [Int: [UInt8]]) -> [[UInt8]] {
        if leaves.count <= 1 { return [] }
        let k = split(leaves.count)
        let middle = leaves.startIndex + k
        if m < k { return path(m, leaves[..<middle], &memo) + [memoizedRoot(leaves[middle...], &memo)] }
        return path(m - k, leaves[middle...], &memo) + [memoizedRoot(leaves[..<middle], &memo)]
    }

    private static func memoizedRoot(_ leaves: ArraySlice<[UInt8]>, _ memo: inout [Int: [UInt8]]) -> [UInt8] {
        let key = leaves.startIndex << 32 | leaves.count
        if let known = memo[key] { return known }
        let root: [UInt8]
        if leaves.count == 1 {
            root = leaves.first!
        } else {
            let middle = leaves.startIndex + split(leaves.count)
            root = nodeHash(memoizedRoot(leaves[..<middle], &memo), memoizedRoot(leaves[middle...], &memo))
        }
        memo[key] = root
        return root
    }
}
