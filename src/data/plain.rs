//! CSV files on disk that are plain — UTF-8, no line break inside a quoted field, no
//! quote in the header, no zero byte, every line ending in `\n` or `\r\n` and none longer
//! than [`MAX_LINE`] — read without holding the whole file, on every core. One streaming
//! pass digests the file, checks that it is plain and cuts it into parts of whole lines
//! ([`PlainCsv::scan`]); each part is then read and split into rows by itself
//! ([`PlainCsv::read_part`]). A plain file gives the same rows, numbered the same, as the
//! CSV reader of [`super::table`]; any other file is left to it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use xxhash_rust::xxh3::Xxh3;

use super::cells::{CellRef, Cells};

/// Longest line a plain file may have; a longer one sends the file to the CSV reader.
pub const MAX_LINE: usize = 1 << 20;
/// About how many bytes a part holds (it ends at the first line end after this many).
const PART_BYTES: u64 = 4 << 20;
/// Bytes read at a time while scanning.
const SCAN_BUFFER: usize = 1 << 20;

/// A plain CSV file, scanned: its header, digest and parts.
#[derive(Debug)]
pub struct PlainCsv {
    path: PathBuf,
    /// Header names, trimmed.
    pub headers: Vec<String>,
    /// The xxh3 digest of the file's bytes.
    pub digest: u64,
    /// Lines after the header (blank ones included).
    pub lines: usize,
    parts: Vec<Part>,
    /// The file's length and modification time when scanned.
    stamp: (u64, Option<SystemTime>),
}

/// Whole lines of a file: bytes `start..end`, the first being line `first_line`.
#[derive(Debug, Clone, Copy)]
struct Part {
    start: u64,
    end: u64,
    first_line: usize,
}

/// Why a part of a plain file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not what the scan found.
    #[error("the file changed while it was being read; load it again")]
    Changed,
}

impl PlainCsv {
    /// Scans the file at `path`: `Ok(None)` when it is not plain (the caller reads it
    /// whole instead).
    pub fn scan(path: &Path) -> std::io::Result<Option<PlainCsv>> {
        Self::scan_in_parts_of(path, PART_BYTES)
    }

    /// [`PlainCsv::scan`], with parts of about `part_bytes`.
    pub(crate) fn scan_in_parts_of(
        path: &Path,
        part_bytes: u64,
    ) -> std::io::Result<Option<PlainCsv>> {
        let mut file = File::open(path)?;
        let stamp = stamp_of(&file)?;
        let mut scan = Scanner {
            part_bytes,
            ..Scanner::default()
        };
        let mut buffer = vec![0u8; SCAN_BUFFER];
        // Bytes of a character cut by the end of the previous read, moved to the front.
        let mut kept = 0;
        loop {
            let read = file.read(&mut buffer[kept..])?;
            if read == 0 {
                if kept > 0 {
                    return Ok(None);
                }
                break;
            }
            let bytes = &buffer[..kept + read];
            let fresh = &bytes[kept..];
            let whole = match std::str::from_utf8(bytes) {
                Ok(_) => bytes.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => return Ok(None),
            };
            if !scan.take(fresh) {
                return Ok(None);
            }
            let cut = bytes.len() - whole;
            buffer.copy_within(whole..whole + cut, 0);
            kept = cut;
        }
        Ok(scan
            .finish()
            .map(|(headers, parts, lines, digest)| PlainCsv {
                path: path.to_path_buf(),
                headers,
                digest,
                lines,
                parts,
                stamp,
            }))
    }

    /// How many parts the file was cut into.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// Reads every part on every core: `start` makes a part's state and `row` gives it
    /// each of the part's rows, in order; `take` receives each part's state on this
    /// thread, in file order. At the first part that cannot be read, no later part is
    /// taken and its error is returned.
    pub fn read_in_parts<S: Send>(
        &self,
        start: impl Fn() -> S + Sync,
        row: impl Fn(&mut S, &mut PlainRow<'_>) + Sync,
        mut take: impl FnMut(S),
    ) -> Result<(), PartError> {
        let mut failed = None;
        crate::parallel::in_order(
            self.parts(),
            |at| {
                let mut state = start();
                let read = PART_BUFFER.with_borrow_mut(|buffer| {
                    self.read_part(at, buffer, |each| row(&mut state, each))
                });
                (state, read)
            },
            |(state, read)| match read {
                Ok(()) if failed.is_none() => take(state),
                Ok(()) => {}
                Err(e) => {
                    failed.get_or_insert(e);
                }
            },
        );
        // A file of one part was read on this thread, which may live on.
        PART_BUFFER.with_borrow_mut(|buffer| *buffer = Vec::new());
        failed.map_or(Ok(()), Err)
    }

    /// Calls `each` with every row of part `at`, in order (lines holding nothing but
    /// commas and spaces are not rows); `buffer` holds the part's bytes meanwhile.
    fn read_part(
        &self,
        at: usize,
        buffer: &mut Vec<u8>,
        mut each: impl FnMut(&mut PlainRow<'_>),
    ) -> Result<(), PartError> {
        let part = self.parts[at];
        let mut file = File::open(&self.path)?;
        if stamp_of(&file)? != self.stamp {
            return Err(PartError::Changed);
        }
        file.seek(SeekFrom::Start(part.start))?;
        buffer.clear();
        let len = usize::try_from(part.end - part.start).map_err(|_| PartError::Changed)?;
        buffer.resize(len, 0);
        file.read_exact(buffer).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => PartError::Changed,
            _ => PartError::Io(e),
        })?;
        let text = std::str::from_utf8(buffer).map_err(|_| PartError::Changed)?;
        // Most files have no quote: one look at the part spares one at each line.
        let quotes = memchr::memchr(b'"', buffer).is_some();
        let mut row = PlainRow {
            number: part.first_line,
            line: "",
            fields: Vec::new(),
            unquoted: String::new(),
            quoted: false,
        };
        for line in text.split_inclusive('\n') {
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            row.line = line;
            row.quoted = quotes && memchr::memchr(b'"', line.as_bytes()).is_some();
            if row.quoted {
                split_quoted(line, &mut row.fields, &mut row.unquoted);
            } else {
                row.fields.clear();
                let mut from = 0;
                for comma in memchr::memchr_iter(b',', line.as_bytes()) {
                    row.fields.push((from, comma));
                    from = comma + 1;
                }
                row.fields.push((from, line.len()));
            }
            if !(0..row.fields.len()).all(|i| row.get(i) == CellRef::Empty) {
                each(&mut row);
            }
            row.number += 1;
        }
        Ok(())
    }
}

thread_local! {
    /// The bytes of the part being read on this thread.
    static PART_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A row of a plain file, borrowed from its text.
#[derive(Debug)]
pub struct PlainRow<'a> {
    number: usize,
    line: &'a str,
    /// Each field's byte range in `line`, or in `unquoted` for a line with quotes.
    fields: Vec<(usize, usize)>,
    /// The fields of a line with quotes, unquoted, one after the other.
    unquoted: String,
    quoted: bool,
}

impl Cells for PlainRow<'_> {
    fn number(&self) -> usize {
        self.number
    }

    #[inline]
    fn get(&self, i: usize) -> CellRef<'_> {
        match self.fields.get(i) {
            Some(&(from, to)) => {
                let line = if self.quoted {
                    self.unquoted.as_str()
                } else {
                    self.line
                };
                let text = line.get(from..to).unwrap_or_default();
                if super::cells::trim(text).is_empty() {
                    CellRef::Empty
                } else {
                    CellRef::Text(text)
                }
            }
            None => CellRef::Empty,
        }
    }
}

fn stamp_of(file: &File) -> std::io::Result<(u64, Option<SystemTime>)> {
    let meta = file.metadata()?;
    Ok((meta.len(), meta.modified().ok()))
}

/// The state of a scan, fed the file's bytes in order.
#[derive(Default)]
struct Scanner {
    part_bytes: u64,
    hasher: Xxh3,
    /// Bytes taken so far.
    offset: u64,
    /// The header line's bytes until its end is found.
    header: Option<Vec<u8>>,
    headers: Option<Vec<String>>,
    /// Where the last line started.
    line_start: u64,
    /// The line number of the next line.
    line: usize,
    parts: Vec<Part>,
    part_start: u64,
    part_first_line: usize,
    /// The last byte taken was `\r`.
    after_cr: bool,
    quotes: Quotes,
}

impl Scanner {
    /// Takes the next bytes; false when the file is not plain.
    fn take(&mut self, bytes: &[u8]) -> bool {
        self.hasher.update(bytes);
        let mut bytes = bytes;
        if self.offset == 0 {
            self.line = 1;
            self.header = Some(Vec::new());
            if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
                bytes = rest;
                self.offset = 3;
                self.line_start = 3;
            }
        }
        // One pass finds both the first quote and a zero byte in a file with no quotes.
        let quote_or_zero = memchr::memchr2(b'"', 0, bytes);
        if quote_or_zero.is_some_and(|at| memchr::memchr(0, &bytes[at..]).is_some())
            || (self.after_cr && bytes.first().is_some_and(|&b| b != b'\n'))
        {
            return false;
        }
        if quote_or_zero.is_some() || self.quotes.state != QuoteState::Outside {
            if !self.quotes.take(bytes) {
                return false;
            }
        } else if let Some(&last) = bytes.last() {
            self.quotes.last = last;
        }
        for cr in memchr::memchr_iter(b'\r', bytes) {
            match bytes.get(cr + 1) {
                Some(b'\n') | None => {}
                Some(_) => return false,
            }
        }
        self.after_cr = bytes.last() == Some(&b'\r');
        let base = self.offset;
        for newline in memchr::memchr_iter(b'\n', bytes) {
            let end = base + newline as u64 + 1;
            if end - self.line_start > MAX_LINE as u64 {
                return false;
            }
            if let Some(mut header) = self.header.take() {
                header.extend_from_slice(&bytes[..newline]);
                if !self.set_headers(&header) {
                    return false;
                }
            } else if end - self.part_start >= self.part_bytes {
                self.cut(end);
            }
            self.line += 1;
            self.line_start = end;
            if self.headers.is_some() && self.parts.is_empty() && self.part_start == 0 {
                self.part_start = end;
                self.part_first_line = self.line;
            }
        }
        if let Some(header) = &mut self.header {
            header.extend_from_slice(bytes);
        }
        self.offset = base + bytes.len() as u64;
        self.offset - self.line_start <= MAX_LINE as u64
    }

    fn set_headers(&mut self, line: &[u8]) -> bool {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            return false;
        };
        if line.contains('"') {
            return false;
        }
        // A blank first line is left to the CSV reader, which skips it.
        if line.is_empty() {
            return false;
        }
        self.headers = Some(line.split(',').map(|h| h.trim().to_string()).collect());
        true
    }

    fn cut(&mut self, end: u64) {
        if end > self.part_start {
            self.parts.push(Part {
                start: self.part_start,
                end,
                first_line: self.part_first_line,
            });
        }
        self.part_start = end;
        self.part_first_line = self.line + 1;
    }

    /// The headers, parts, lines after the header and digest; `None` for a file with no
    /// header line.
    fn finish(mut self) -> Option<(Vec<String>, Vec<Part>, usize, u64)> {
        if self.after_cr || self.quotes.state == QuoteState::Open {
            return None;
        }
        if let Some(header) = self.header.take() {
            if !self.set_headers(&header) {
                return None;
            }
            return Some((self.headers?, Vec::new(), 0, self.hasher.digest()));
        }
        let headers = self.headers.take()?;
        if self.offset > self.part_start {
            self.line += usize::from(self.offset > self.line_start);
            self.parts.push(Part {
                start: self.part_start,
                end: self.offset,
                first_line: self.part_first_line,
            });
        }
        let lines = self.line.saturating_sub(2);
        Some((headers, self.parts, lines, self.hasher.digest()))
    }
}

/// Where the scan is among quotes, as the CSV reader would be: a quote opens a quoted field
/// only at the start of a field (elsewhere it is a plain character), `""` inside one is a
/// quote, and a quoted field goes on, line breaks included, to its closing quote. A line
/// break inside a quoted field makes a file not plain.
#[derive(Debug)]
struct Quotes {
    state: QuoteState,
    /// The last byte taken, for a quote at the start of the next bytes.
    last: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// Not in a quoted field.
    Outside,
    /// In a quoted field.
    Open,
    /// Just after a quote in a quoted field: it closes the field unless a quote follows.
    Closing,
}

impl Default for Quotes {
    fn default() -> Self {
        Quotes {
            state: QuoteState::Outside,
            last: b'\n',
        }
    }
}

impl Quotes {
    /// Takes the next bytes; false at a line break inside a quoted field.
    fn take(&mut self, bytes: &[u8]) -> bool {
        let mut from = 0;
        while from < bytes.len() {
            let rest = &bytes[from..];
            match self.state {
                QuoteState::Open => match memchr::memchr(b'"', rest) {
                    Some(at) if memchr::memchr(b'\n', &rest[..at]).is_none() => {
                        self.state = QuoteState::Closing;
                        from += at + 1;
                    }
                    Some(_) => return false,
                    None if memchr::memchr(b'\n', rest).is_some() => return false,
                    None => break,
                },
                QuoteState::Closing if rest[0] == b'"' => {
                    self.state = QuoteState::Open;
                    from += 1;
                }
                QuoteState::Closing => self.state = QuoteState::Outside,
                QuoteState::Outside => match memchr::memchr(b'"', rest) {
                    Some(at) => {
                        let at = from + at;
                        let before = at.checked_sub(1).map_or(self.last, |i| bytes[i]);
                        if matches!(before, b',' | b'\n') {
                            self.state = QuoteState::Open;
                        }
                        from = at + 1;
                    }
                    None => break,
                },
            }
        }
        if let Some(&last) = bytes.last() {
            self.last = last;
        }
        true
    }
}

/// Splits a line with quotes into `fields`, ranges of `text`, which gets each field's text
/// unquoted, as the CSV reader gives it (see [`Quotes`]); the scan made sure that every
/// quoted field of the line closes on it.
fn split_quoted(line: &str, fields: &mut Vec<(usize, usize)>, text: &mut String) {
    #[derive(Clone, Copy)]
    enum At {
        Start,
        Plain,
        Quoted,
        Closing,
    }
    fields.clear();
    text.clear();
    let mut bytes: Vec<u8> = std::mem::take(text).into_bytes();
    let (mut at, mut start) = (At::Start, 0);
    for &b in line.as_bytes() {
        at = match (at, b) {
            (At::Start, b'"') => At::Quoted,
            (At::Quoted, b'"') => At::Closing,
            (At::Closing, b'"') => {
                bytes.push(b'"');
                At::Quoted
            }
            (At::Start | At::Plain | At::Closing, b',') => {
                fields.push((start, bytes.len()));
                start = bytes.len();
                At::Start
            }
            (At::Quoted, _) => {
                bytes.push(b);
                At::Quoted
            }
            (At::Start | At::Plain | At::Closing, _) => {
                bytes.push(b);
                At::Plain
            }
        };
    }
    fields.push((start, bytes.len()));
    // Cut only at ASCII quotes and commas, the bytes are still UTF-8.
    *text = String::from_utf8(bytes).unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceFormat;
    use crate::data::table::{self, ReadOptions};
    use proptest::prelude::*;

    /// A table's headers and its rows, each with its number and cells' text.
    type Rows = (Vec<String>, Vec<(usize, Vec<String>)>);

    /// Every row of a file, as the plain reader gives them, or `None` when it is not plain.
    fn plain_rows(bytes: &[u8], part_bytes: u64) -> Option<Rows> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let plain = PlainCsv::scan_in_parts_of(&path, part_bytes).unwrap()?;
        assert_eq!(plain.digest, xxhash_rust::xxh3::xxh3_64(bytes));
        let mut rows = Vec::new();
        let mut buffer = Vec::new();
        for at in 0..plain.parts() {
            plain
                .read_part(at, &mut buffer, |row| {
                    let cells = (0..row.fields.len())
                        .map(|i| cell_text(row.get(i)))
                        .collect();
                    rows.push((row.number(), cells));
                })
                .unwrap();
        }
        Some((plain.headers.clone(), rows))
    }

    fn cell_text(cell: CellRef<'_>) -> String {
        match cell {
            CellRef::Empty => String::new(),
            CellRef::Text(t) => t.to_string(),
            other => panic!("a CSV cell is text: {other:?}"),
        }
    }

    /// Every row as the CSV reader of `table` gives them.
    fn csv_rows(bytes: &[u8]) -> Option<Rows> {
        let reader = table::rows_with(bytes, SourceFormat::Csv, ReadOptions::default()).ok()?;
        let rows = reader
            .rows
            .map(|row| {
                let row = row.unwrap();
                let cells = row.cells.iter().map(|c| cell_text(c.view())).collect();
                (row.number, cells)
            })
            .collect();
        Some((reader.head.headers, rows))
    }

    #[test]
    fn files_that_are_not_plain_are_left_to_the_csv_reader() {
        for bytes in [
            &b"a,b\n\"x\n\",1\n"[..],
            b"a,b\n1,\"x\r\n\"\n",
            b"a,b\n1,\"x\n",
            b"\"a\",b\n1,2\n",
            b"a,b\n\"\"\"\n\"\n",
            b"a,b\r1,2\r",
            b"a,b\n1,\xFF\n",
            b"a,b\n1,\x002\n",
            b"\na,b\n1,2\n",
            b"",
            b"a,b\n1,2\r",
        ] {
            assert!(plain_rows(bytes, 8).is_none(), "{bytes:?}");
        }
        let long = format!("a,b\n1,{}\n", "x".repeat(MAX_LINE));
        assert!(plain_rows(long.as_bytes(), 8).is_none());
        assert!(plain_rows(b"a,b", 8).is_some());
    }

    #[test]
    fn quoted_fields_are_read_unquoted() {
        let text = "id,name,n\n1,\"Southern Nations, Nationalities\",2\n\
                    2,\"say \"\"hi\"\"\",\"\"\n3,a\"b,\"c\"d\n";
        let rows = plain_rows(text.as_bytes(), 8).unwrap().1;
        let cells: Vec<Vec<String>> = rows.into_iter().map(|(_, cells)| cells).collect();
        assert_eq!(
            cells,
            [
                vec!["1", "Southern Nations, Nationalities", "2"],
                vec!["2", "say \"hi\"", ""],
                vec!["3", "a\"b", "cd"],
            ]
        );
    }

    #[test]
    fn a_file_changed_after_its_scan_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let text = "id,n\n".to_string() + &"a,1\n".repeat(100);
        std::fs::write(&path, &text).unwrap();
        let plain = PlainCsv::scan_in_parts_of(&path, 40).unwrap().unwrap();
        assert!(plain.parts() > 2);
        let mut buffer = Vec::new();
        let mut rows = 0;
        plain.read_part(1, &mut buffer, |_| rows += 1).unwrap();
        assert_eq!(rows, 10);
        // Shorter (a part now ends past the end), then longer.
        std::fs::write(&path, &text[..200]).unwrap();
        let last = plain.parts() - 1;
        let read = plain.read_part(last, &mut buffer, |_| {});
        assert!(matches!(read, Err(PartError::Changed)), "{read:?}");
        std::fs::write(&path, text.clone() + "b,2\n").unwrap();
        let read = plain.read_part(0, &mut buffer, |_| {});
        assert!(matches!(read, Err(PartError::Changed)), "{read:?}");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            plain.read_part(0, &mut buffer, |_| {}),
            Err(PartError::Io(_))
        ));
    }

    /// A field of a random plain file: bare, or quoted with commas and quotes inside,
    /// or with quotes where they are plain characters.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-c1 ]{0,3}|é|عر",
            1 => "\"([a-c, ]|\"\"|é){0,4}\"",
            1 => "[a ]{1,2}\"[a,]{0,2}",
            1 => "\"[ab]{0,2}\"[a ]{1,2}",
        ]
    }

    /// A line of a random plain file.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => proptest::collection::vec(field(), 1..4).prop_map(|f| f.join(",")),
            1 => Just(String::new()),
            1 => Just(" , ".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Cut into parts of any size, with or without a byte order mark, `\r\n` or
        /// `\n`, a last line end or not, a plain file gives the rows the CSV reader
        /// gives, numbered the same (blank lines counted, not given).
        #[test]
        fn a_plain_file_gives_the_rows_the_csv_reader_gives(
            lines in proptest::collection::vec(line(), 0..40),
            crlf: bool,
            bom: bool,
            last_end: bool,
            part_bytes in 1u64..64,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("{}id,name{end}", if bom { "\u{FEFF}" } else { "" });
            text.push_str(&lines.join(end));
            if last_end && !lines.is_empty() {
                text.push_str(end);
            }
            let plain = plain_rows(text.as_bytes(), part_bytes);
            prop_assert!(plain.is_some());
            prop_assert_eq!(plain, csv_rows(text.as_bytes()));
        }

        /// Any text of commas, quotes, line ends and letters that the scan finds plain
        /// gives the rows the CSV reader gives; a line break inside a quoted field is
        /// never found plain.
        #[test]
        fn a_file_found_plain_reads_as_the_csv_reader_reads_it(
            body in "[a,\"\n ]{0,40}",
            part_bytes in 1u64..16,
        ) {
            let text = format!("id,name\n{body}");
            let csv = csv_rows(text.as_bytes());
            if let Some(plain) = plain_rows(text.as_bytes(), part_bytes) {
                prop_assert_eq!(Some(plain), csv);
            }
        }
    }
}
