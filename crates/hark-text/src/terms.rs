//! Looking up a word's term in a list of terms. Korean and Thai match by prefix, the longest
//! first: a Korean term is a stem (재미없 matches 재미없어요, 재미없다), so endings need no
//! analyser; a Thai compound in the word list begins with its head (พนักงานบริการ, service
//! staff, is about พนักงาน, staff).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::Lang;

pub(crate) struct TermIndex<V> {
    map: HashMap<String, V>,
    by_prefix: bool,
    /// The lengths of the terms in bytes, in order: only prefixes of a word that long need be
    /// looked up.
    lengths: Vec<usize>,
    /// The letters terms begin with: a word that begins with another has no term, and its
    /// prefixes need not be looked up (most places in a Korean word, in [`Self::within`]).
    first_letters: HashSet<char>,
    /// Every start of a term, at the lengths in [`Self::lengths`], the term itself included
    /// (Korean, Thai): once a word's prefix is none of them, no longer prefix is a term either,
    /// so a word that matches nothing costs one or two look-ups, not one per length.
    starts: HashSet<String>,
}

impl<V> TermIndex<V> {
    pub fn new(lang: Lang) -> Self {
        Self {
            map: HashMap::default(),
            by_prefix: matches!(lang, Lang::Ko | Lang::Th),
            lengths: Vec::new(),
            first_letters: HashSet::default(),
            starts: HashSet::default(),
        }
    }

    pub fn entry(&mut self, term: String) -> std::collections::hash_map::Entry<'_, String, V> {
        if let Err(at) = self.lengths.binary_search(&term.len()) {
            self.lengths.insert(at, term.len());
        }
        self.first_letters.extend(term.chars().next());
        if self.by_prefix {
            // Starts at every length, as the lengths of terms added later are not known yet.
            let ends = term.char_indices().map(|(i, _)| i).skip(1).chain([term.len()]);
            self.starts.extend(ends.map(|end| term[..end].to_owned()));
        }
        self.map.entry(term)
    }

    /// The proper prefixes of `term` that could be terms, by their end in bytes, shortest
    /// first: none unless this index matches by prefix, and only as long as some term.
    fn prefix_ends<'a>(&'a self, term: &'a str) -> impl DoubleEndedIterator<Item = usize> + 'a {
        let shorter = if self.by_prefix { self.lengths.partition_point(|l| *l < term.len()) } else { 0 };
        self.lengths[..shorter].iter().copied().filter(move |&end| term.is_char_boundary(end))
    }

    /// The value of `term` itself.
    pub fn exact(&self, term: &str) -> Option<&V> {
        self.map.get(term)
    }

    /// The value of the term that `term` is, or (Korean, Thai) begins with, longest first.
    pub fn longest(&self, term: &str) -> Option<&V> {
        self.longest_with_len(term).map(|(_, v)| v)
    }

    /// [`Self::longest`] with the length in bytes of the term matched.
    pub fn longest_with_len(&self, term: &str) -> Option<(usize, &V)> {
        if self.by_prefix && !term.chars().next().is_some_and(|c| self.first_letters.contains(&c)) {
            return None;
        }
        if let Some(v) = self.map.get(term) {
            return Some((term.len(), v));
        }
        self.prefix_ends(term).rev().find_map(|i| self.map.get(&term[..i]).map(|v| (i, v)))
    }

    /// Every term found inside `word`, left to right without overlap: at its start any term,
    /// further in only terms of two or more characters that are not `start_only`. For Korean
    /// written without spaces (진짜재밌음, 재미없고지루함), where a stem is not at the start of
    /// the word. Each with where it ends in `word`.
    pub fn within<'a>(&'a self, word: &'a str, start_only: &[String]) -> Vec<(usize, &'a V)> {
        let inside = |term: &str| term.chars().count() >= 2 && !start_only.iter().any(|s| s == term);
        let mut found = Vec::new();
        let mut at = 0;
        while at < word.len() {
            let rest = &word[at..];
            match self.longest_with_len(rest).filter(|(len, _)| at == 0 || inside(&rest[..*len])) {
                Some((len, v)) => {
                    at += len;
                    found.push((at, v));
                }
                None => at += rest.chars().next().map_or(1, char::len_utf8),
            }
        }
        found
    }

    /// Every value whose term `term` begins with (Korean, Thai: shortest first) or is.
    pub fn all<'a>(&'a self, term: &'a str) -> impl Iterator<Item = &'a V> + 'a {
        // Shortest first, so the lengths are walked rather than searched.
        let mut shorter = if self.by_prefix { self.lengths.iter() } else { [].iter() };
        let mut whole = Some(term.len());
        std::iter::from_fn(move || {
            loop {
                let end = match shorter.next() {
                    Some(&end) if end < term.len() => end,
                    _ => {
                        shorter = [].iter();
                        whole.take()?
                    }
                };
                if !term.is_char_boundary(end) {
                    continue;
                }
                // Most words start no term: the first look-up, at the shortest length, ends
                // the search.
                if self.by_prefix && !self.starts.contains(&term[..end]) {
                    (shorter, whole) = ([].iter(), None);
                    return None;
                }
                if let Some(v) = self.map.get(&term[..end]) {
                    return Some(v);
                }
            }
        })
    }

    /// Whether a word's term matches a term of a phrase.
    pub fn matches(&self, term: &str, wanted: &str) -> bool {
        term == wanted || (self.by_prefix && term.starts_with(wanted))
    }
}
