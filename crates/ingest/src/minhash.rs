//! Near duplicates (近似重复) of Chinese text without word segmentation: documents become
//! sets of overlapping character shingles, MinHash signatures estimate the Jaccard
//! similarity of those sets, and LSH banding finds the pairs worth comparing.
//!
//! Text is normalized first: full-width ASCII folded to ASCII, ASCII lowercased, and all
//! whitespace and punctuation (Chinese punctuation too) dropped, so reflowed or re-punctuated
//! copies of a document hash alike.

use serde::{Deserialize, Serialize};

/// Texts with fewer distinct shingles than this get no signature: too short to compare.
pub const MIN_SHINGLES: usize = 20;

/// Probability, at exactly the threshold similarity, that LSH never puts a pair in one
/// bucket: [`lsh_bands`] picks the most rows per band that keep the miss rate below it.
pub const LSH_MISS_RATE: f64 = 1e-6;

/// Runs of more signatures than this in one LSH bucket are linked as a chain and a star
/// instead of all pairs, which keeps thousands of identical texts linear.
const BUCKET_ALL_PAIRS_MAX: usize = 64;

/// Computes MinHash signatures over character shingles.
#[derive(Debug, Clone)]
pub struct MinHasher {
    num_perm: usize,
    shingle: usize,
    seed: u64,
    /// Multiplier (odd) and offset of each permutation `((a·x + b) mod 2⁶⁴) >> 32`.
    perms: Vec<(u64, u64)>,
}

/// A MinHash signature: the minimum of each permutation over a text's shingles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature(pub Vec<u32>);

impl Signature {
    /// Little-endian `u32`s, 4 bytes each.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// The inverse of [`Signature::to_bytes`]; None if `b` is empty or not whole `u32`s.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.is_empty() || !b.len().is_multiple_of(4) {
            return None;
        }
        let values = b
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(Signature(values))
    }
}

impl MinHasher {
    /// `num_perm` permutations (at least 1) over shingles of `shingle` characters (at
    /// least 1); the same seed gives the same signatures everywhere.
    pub fn new(num_perm: usize, shingle: usize, seed: u64) -> Self {
        let num_perm = num_perm.max(1);
        let mut state = seed;
        let perms = (0..num_perm)
            .map(|_| (splitmix64(&mut state) | 1, splitmix64(&mut state)))
            .collect();
        MinHasher {
            num_perm,
            shingle: shingle.max(1),
            seed,
            perms,
        }
    }

    /// 128 permutations over 5-character shingles: five Chinese characters are about two
    /// words, specific enough that unrelated texts on one topic share few shingles.
    pub fn default_for_documents() -> Self {
        MinHasher::new(128, 5, 0x7863_6572_745f_6d68)
    }

    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    pub fn shingle(&self) -> usize {
        self.shingle
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The signature of `text`, or None if it has fewer than [`MIN_SHINGLES`] distinct
    /// shingles after normalization.
    pub fn signature(&self, text: &str) -> Option<Signature> {
        let chars = normalize(text);
        if chars.len() < self.shingle {
            return None;
        }
        let mut hashes: Vec<u64> = chars
            .windows(self.shingle)
            .map(|w| shingle_hash(w, self.seed))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        if hashes.len() < MIN_SHINGLES {
            return None;
        }
        let mut mins = vec![u32::MAX; self.num_perm];
        for &x in &hashes {
            // Multiply-add-shift over an already mixed 64-bit hash; the inner loop runs over
            // contiguous minima and vectorizes.
            for (min, &(a, b)) in mins.iter_mut().zip(&self.perms) {
                let v = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
                *min = (*min).min(v);
            }
        }
        Some(Signature(mins))
    }
}

/// Share of positions where the signatures agree: an unbiased estimate of the Jaccard
/// similarity of the shingle sets. Signatures of different lengths give 0.
pub fn estimate_jaccard(a: &Signature, b: &Signature) -> f64 {
    if a.0.len() != b.0.len() || a.0.is_empty() {
        return 0.0;
    }
    let equal = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count();
    equal as f64 / a.0.len() as f64
}

/// Exact Jaccard similarity of the sets of `shingle`-character shingles of the normalized
/// texts, compared as strings. Two texts without shingles are alike (1); one alone, not (0).
pub fn exact_jaccard(a: &str, b: &str, shingle: usize) -> f64 {
    let shingle = shingle.max(1);
    let set = |text: &str| -> std::collections::HashSet<String> {
        normalize(text)
            .windows(shingle)
            .map(|w| w.iter().collect())
            .collect()
    };
    let (sa, sb) = (set(a), set(b));
    if sa.is_empty() && sb.is_empty() {
        return 1.0;
    }
    let common = sa.intersection(&sb).count();
    common as f64 / (sa.len() + sb.len() - common) as f64
}

/// The characters that count: full-width ASCII folded to ASCII, ASCII lowercased,
/// whitespace and punctuation dropped.
pub fn normalize(text: &str) -> Vec<char> {
    text.chars()
        .filter_map(|c| {
            let c = fold_full_width(c);
            if c.is_whitespace() || is_punctuation(c) {
                None
            } else {
                Some(c.to_ascii_lowercase())
            }
        })
        .collect()
}

/// Full-width forms of ASCII (！ to ～) to ASCII.
fn fold_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// ASCII punctuation and symbols, Latin-1 punctuation, general and supplemental punctuation,
/// the CJK punctuation marks (but not 〇 and other ideographic numbers in that block),
/// vertical, compatibility and small forms, and half-width CJK punctuation.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '\u{00A1}'
                | '\u{00A7}'
                | '\u{00AB}'
                | '\u{00B6}'
                | '\u{00B7}'
                | '\u{00BB}'
                | '\u{00BF}'
                | '\u{2000}'..='\u{206F}'
                | '\u{2E00}'..='\u{2E7F}'
                | '\u{3001}'..='\u{3003}'
                | '\u{3008}'..='\u{3020}'
                | '\u{3030}'
                | '\u{303D}'
                | '\u{30FB}'
                | '\u{FE10}'..='\u{FE1F}'
                | '\u{FE30}'..='\u{FE6F}'
                | '\u{FF5F}'..='\u{FF65}'
                | '\u{FEFF}'
        )
}

/// A well-mixed 64-bit hash of one shingle.
fn shingle_hash(chars: &[char], seed: u64) -> u64 {
    let mut h = seed ^ 0x9e37_79b9_7f4a_7c15;
    for &c in chars {
        h = (h.rotate_left(5) ^ c as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fmix64(h ^ chars.len() as u64)
}

/// MurmurHash3's 64-bit finalizer: every input bit flips each output bit with probability ½.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Near-duplicate texts: caller ids, and the verified pairs that joined them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearGroup {
    /// Caller ids, ascending.
    pub members: Vec<usize>,
    /// `(smaller id, larger id, estimated similarity)`, sorted by ids.
    pub pairs: Vec<(usize, usize, f64)>,
}

/// LSH banding for `num_perm` permutations and a similarity `threshold`: `(bands, rows)`.
///
/// Two texts of similarity `s` share at least one band with probability
/// `1 − (1 − s^rows)^bands`, an S-curve rising around `(1/bands)^(1/rows)`. Candidates are
/// verified afterwards, so recall matters more than a sharp curve: this picks the most rows
/// (fewest false candidates) for which a pair at exactly the threshold is missed with
/// probability at most [`LSH_MISS_RATE`]. For 128 permutations: 0.5 → 64 × 2, 0.8 → 32 × 4
/// (midpoint 0.42, miss at 0.8 ≈ 5·10⁻⁸, a pair at 0.3 is a candidate with probability
/// 0.23), 0.9 → 21 × 6. Permutations left over after `bands × rows` only serve verification.
pub fn lsh_bands(num_perm: usize, threshold: f64) -> (usize, usize) {
    let num_perm = num_perm.max(1);
    let t = if threshold.is_nan() {
        1.0
    } else {
        threshold.clamp(0.0, 1.0)
    };
    let mut best = (num_perm, 1);
    for rows in 1..=num_perm {
        let bands = num_perm / rows;
        let miss = (1.0 - t.powi(rows as i32)).powi(bands as i32);
        if miss <= LSH_MISS_RATE {
            best = (bands, rows);
        }
    }
    best
}

/// Groups near-duplicate texts: LSH buckets propose pairs (see [`lsh_bands`]), a pair is
/// kept when its estimated similarity is at least `threshold`, and groups are the connected
/// components of kept pairs. `sigs` holds `(caller id, signature)`; signatures whose length
/// differs from the first one's are never grouped. Groups are sorted by first member.
pub fn near_duplicate_groups(sigs: &[(usize, Signature)], threshold: f64) -> Vec<NearGroup> {
    let Some(num_perm) = sigs.iter().map(|(_, s)| s.0.len()).find(|&n| n > 0) else {
        return Vec::new();
    };
    let usable: Vec<usize> = (0..sigs.len())
        .filter(|&k| sigs[k].1.0.len() == num_perm)
        .collect();
    let (bands, rows) = lsh_bands(num_perm, threshold);

    let mut candidates: Vec<(usize, usize)> = Vec::new();
    let mut buckets: Vec<(u64, usize)> = Vec::with_capacity(usable.len());
    for band in 0..bands {
        buckets.clear();
        buckets.extend(usable.iter().map(|&k| {
            let values = &sigs[k].1.0[band * rows..(band + 1) * rows];
            (band_hash(values), k)
        }));
        buckets.sort_unstable();
        for run in buckets.chunk_by(|a, b| a.0 == b.0) {
            if run.len() <= BUCKET_ALL_PAIRS_MAX {
                for (i, &(_, a)) in run.iter().enumerate() {
                    candidates.extend(run[i + 1..].iter().map(|&(_, b)| (a, b)));
                }
            } else {
                for w in run.windows(2) {
                    candidates.push((w[0].1, w[1].1));
                }
                candidates.extend(run[2..].iter().map(|&(_, b)| (run[0].1, b)));
            }
        }
    }
    candidates.sort_unstable();
    candidates.dedup();

    let mut components = UnionFind::new(sigs.len());
    let mut verified: Vec<(usize, usize, f64)> = Vec::new();
    for (a, b) in candidates {
        if sigs[a].0 == sigs[b].0 {
            continue;
        }
        let similarity = estimate_jaccard(&sigs[a].1, &sigs[b].1);
        if similarity >= threshold {
            components.union(a, b);
            verified.push((a, b, similarity));
        }
    }

    let mut by_root: std::collections::BTreeMap<usize, NearGroup> = Default::default();
    for (a, b, similarity) in verified {
        let group = by_root
            .entry(components.find(a))
            .or_insert_with(|| NearGroup {
                members: Vec::new(),
                pairs: Vec::new(),
            });
        let (x, y) = (sigs[a].0, sigs[b].0);
        group.members.extend([x, y]);
        group.pairs.push((x.min(y), x.max(y), similarity));
    }
    let mut groups: Vec<NearGroup> = by_root
        .into_values()
        .map(|mut g| {
            g.members.sort_unstable();
            g.members.dedup();
            g.pairs.sort_by_key(|p| (p.0, p.1));
            g.pairs.dedup_by(|p, q| (p.0, p.1) == (q.0, q.1));
            g
        })
        .collect();
    groups.sort_by(|a, b| a.members.cmp(&b.members));
    groups
}

fn band_hash(values: &[u32]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3u64;
    for &v in values {
        h = (h.rotate_left(5) ^ u64::from(v)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fmix64(h)
}

/// Disjoint sets over `0..n` with path halving and union by size.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
    }
}
