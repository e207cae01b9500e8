//! Tabular files (CSV and XLSX) read into one shape: a header row and numbered data rows.
//! Count tables and point sources with lat/lon columns both read through here, so a DTM
//! master list can come as either format with the same configuration. CSV text is decoded
//! as [`super::encoding`] says; a workbook's sheet is the one named, or its first.

use std::io::Cursor;

use calamine::{Data, Reader};

pub use super::cells::{Cell, CellRef, Cells, Row};
use super::encoding;
use super::report::Severity;
use crate::config::SourceFormat;

/// A whole table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Header names, trimmed.
    pub headers: Vec<String>,
    /// Data rows.
    pub rows: Vec<Row>,
    /// The worksheet read, for a workbook (named even when it is the first by default).
    pub sheet: Option<String>,
    /// What the load report should say about how the file was read (its encoding).
    pub remarks: Vec<(Severity, String)>,
}

/// How to read a table beyond its format.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// Worksheet of a workbook; the first when `None`.
    pub sheet: Option<&'a str>,
    /// Encoding of a CSV file; found out when `None`.
    pub encoding: Option<&'static encoding_rs::Encoding>,
}

impl Table {
    /// Position of a column by header name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
}

/// Why a table could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// CSV syntax.
    #[error("CSV error at row {row}: {message}")]
    Csv {
        /// Spreadsheet row number.
        row: usize,
        /// What the parser said.
        message: String,
    },
    /// The workbook could not be opened.
    #[error("cannot read workbook: {0}")]
    Workbook(String),
    /// No such worksheet.
    #[error("there is no sheet {wanted:?} in the workbook; its sheets are {}", quoted(.present))]
    NoSheet {
        /// The sheet asked for.
        wanted: String,
        /// The sheets there are.
        present: Vec<String>,
    },
    /// No header row.
    #[error("the table is empty (no header row)")]
    Empty,
    /// The workbook unpacks to more than the limit.
    #[error(
        "the workbook unpacks to more than {} MiB, the most dtmap reads; \
         split it, or save the sheet as CSV",
        .limit / (1024 * 1024)
    )]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    quoted.join(", ")
}

/// Reads a CSV or XLSX file's bytes.
pub fn read(bytes: &[u8], format: SourceFormat, sheet: Option<&str>) -> Result<Table, TableError> {
    read_with(
        bytes,
        format,
        ReadOptions {
            sheet,
            encoding: None,
        },
    )
}

/// Reads a CSV or XLSX file's bytes with a sheet and an encoding.
pub fn read_with(
    bytes: &[u8],
    format: SourceFormat,
    options: ReadOptions<'_>,
) -> Result<Table, TableError> {
    let reader = rows_with(bytes, format, options)?;
    let mut table = reader.head;
    for row in reader.rows {
        table.rows.push(row?);
    }
    Ok(table)
}

/// A table read row by row: its header row (with the sheet of a workbook and what a CSV
/// file's encoding says) first, then each data row as it is read, so that a large CSV
/// file's rows are never all held at once (a workbook's are: its reader reads a whole
/// sheet). Iteration ends at the first CSV syntax error, which it yields.
pub struct RowReader<'a> {
    /// The headers, the sheet and the remarks; `rows` is empty.
    pub head: Table,
    /// About how many data rows there are (for progress bars).
    pub estimated_rows: usize,
    /// The data rows.
    pub rows: Rows<'a>,
}

/// The data rows of a [`RowReader`].
pub struct Rows<'a>(RowSource<'a>);

enum RowSource<'a> {
    Csv(Box<CsvRows<'a>>),
    Read(std::vec::IntoIter<Row>),
    Done,
}

/// Rows handed from the reading thread to the caller at a time.
const BATCH_ROWS: usize = 2048;

/// Tables of at least this many rows are worth reading on a second thread while their
/// rows are used ([`Rows::for_each`]).
pub const PIPELINED_ROWS: usize = 50_000;

impl Rows<'_> {
    /// The next row read into `row` rather than into a new one: a CSV row's text reuses
    /// the buffers of the row before (a table of millions of rows otherwise allocates a
    /// string per cell per row).
    pub fn next_into(&mut self, row: &mut Row) -> Option<Result<(), TableError>> {
        let next = match &mut self.0 {
            RowSource::Csv(rows) => rows.next_into(row),
            RowSource::Read(rows) => rows.next().map(|next| {
                *row = next;
                Ok(())
            }),
            RowSource::Done => None,
        };
        if matches!(next, Some(Err(_))) {
            self.0 = RowSource::Done;
        }
        next
    }

    /// Calls `each` with every row, in order, and returns the error that ended the rows
    /// early, if one did; `each` may take the row's cells. With `pipelined`, a second
    /// thread reads and parses the rows of a CSV file in batches while `each` runs on this
    /// one (the rows' buffers go back to it for reuse); the rows and their order are the
    /// same either way. A workbook's rows, read already, are never pipelined.
    pub fn for_each(
        mut self,
        pipelined: bool,
        mut each: impl FnMut(&mut Row),
    ) -> Option<TableError> {
        if !pipelined || !matches!(self.0, RowSource::Csv(_)) {
            let mut row = Row {
                number: 0,
                cells: Vec::new(),
            };
            while let Some(next) = self.next_into(&mut row) {
                if let Err(e) = next {
                    return Some(e);
                }
                each(&mut row);
            }
            return None;
        }
        type Batch = (Vec<Row>, usize, Option<TableError>);
        std::thread::scope(|scope| {
            let (full, filled_batches) = std::sync::mpsc::sync_channel::<Batch>(2);
            let (empty, emptied_batches) = std::sync::mpsc::channel::<Vec<Row>>();
            let spawned = std::thread::Builder::new()
                .name("dtmap-read-rows".into())
                .spawn_scoped(scope, move || loop {
                    let mut batch = emptied_batches.try_recv().unwrap_or_default();
                    let (mut filled, mut error, mut done) = (0, None, false);
                    while filled < BATCH_ROWS {
                        if batch.len() == filled {
                            batch.push(Row {
                                number: 0,
                                cells: Vec::new(),
                            });
                        }
                        match self.next_into(&mut batch[filled]) {
                            None => done = true,
                            Some(Err(e)) => (error, done) = (Some(e), true),
                            Some(Ok(())) => filled += 1,
                        }
                        if done {
                            break;
                        }
                    }
                    if full.send((batch, filled, error)).is_err() || done {
                        return;
                    }
                });
            if let Err(e) = spawned {
                return Some(TableError::Csv {
                    row: 0,
                    message: format!("cannot start a thread to read the rows: {e}"),
                });
            }
            let mut failed = None;
            for (mut batch, filled, error) in filled_batches {
                batch[..filled].iter_mut().for_each(&mut each);
                failed = failed.or(error);
                let _ = empty.send(batch);
            }
            failed
        })
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Row, TableError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut row = Row {
            number: 0,
            cells: Vec::new(),
        };
        self.next_into(&mut row).map(|read| read.map(|()| row))
    }
}

/// Opens a CSV or XLSX file's bytes for reading row by row.
pub fn rows_with<'a>(
    bytes: &'a [u8],
    format: SourceFormat,
    options: ReadOptions<'_>,
) -> Result<RowReader<'a>, TableError> {
    match format {
        SourceFormat::Xlsx => {
            let mut table = read_workbook(bytes, options.sheet)?;
            let rows = std::mem::take(&mut table.rows);
            Ok(RowReader {
                head: table,
                estimated_rows: rows.len(),
                rows: Rows(RowSource::Read(rows.into_iter())),
            })
        }
        _ => {
            let decoded = encoding::decode(bytes, options.encoding);
            let mut remarks = Vec::new();
            if let Some(note) = decoded.note() {
                remarks.push((Severity::Note, note));
            }
            if decoded.had_errors {
                remarks.push((
                    Severity::Warning,
                    format!(
                        "some bytes are not valid {} and show as \u{FFFD}",
                        decoded.encoding.name()
                    ),
                ));
            }
            let text = match decoded.text {
                std::borrow::Cow::Borrowed(text) => std::borrow::Cow::Borrowed(text.as_bytes()),
                std::borrow::Cow::Owned(text) => std::borrow::Cow::Owned(text.into_bytes()),
            };
            let (headers, rows) = CsvRows::open(text)?;
            Ok(RowReader {
                head: Table {
                    headers,
                    remarks,
                    ..Table::default()
                },
                estimated_rows: rows.estimated_rows(),
                rows: Rows(RowSource::Csv(Box::new(rows))),
            })
        }
    }
}

/// A CSV file's data rows, numbered as a spreadsheet shows them.
struct CsvRows<'a> {
    reader: csv::Reader<Cursor<std::borrow::Cow<'a, [u8]>>>,
    record: csv::StringRecord,
    /// Where the text starts (after a byte order mark).
    start: usize,
    /// The line reached, and the byte offset (from `start`) it was counted to.
    line: usize,
    counted_to: usize,
    /// Records read after the header.
    index: usize,
}

impl<'a> CsvRows<'a> {
    /// The header row and a reader of the rows after it.
    fn open(text: std::borrow::Cow<'a, [u8]>) -> Result<(Vec<String>, CsvRows<'a>), TableError> {
        let start = if text.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut cursor = Cursor::new(text);
        cursor.set_position(start as u64);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(cursor);
        let mut record = csv::StringRecord::new();
        let headers = match reader.read_record(&mut record) {
            Ok(false) => return Err(TableError::Empty),
            Err(e) => {
                return Err(TableError::Csv {
                    row: 1,
                    message: e.to_string(),
                })
            }
            Ok(true) => record.iter().map(|h| h.trim().to_string()).collect(),
        };
        Ok((
            headers,
            CsvRows {
                reader,
                record,
                start,
                line: 1,
                counted_to: 0,
                index: 0,
            },
        ))
    }

    /// About how many rows follow, from the length of the first lines.
    fn estimated_rows(&self) -> usize {
        let bytes = &self.reader.get_ref().get_ref()[self.start..];
        let sample = &bytes[..bytes.len().min(1 << 16)];
        let lines = sample.iter().filter(|&&b| b == b'\n').count().max(1);
        bytes.len() / sample.len().max(1) * lines
    }

    /// The next row read into `row`, whose cells' text buffers are reused.
    fn next_into(&mut self, row: &mut Row) -> Option<Result<(), TableError>> {
        loop {
            let i = self.index;
            self.index += 1;
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Err(e) => {
                    return Some(Err(TableError::Csv {
                        row: e.position().map(|p| p.line() as usize).unwrap_or(i + 2),
                        message: e.to_string(),
                    }))
                }
                Ok(true) => {}
            }
            let bytes = &self.reader.get_ref().get_ref()[self.start..];
            // The line where the record starts, counted from its byte offset so that blank
            // lines and quoted line breaks count as a spreadsheet would.
            let mut offset = self
                .record
                .position()
                .map(|p| p.byte() as usize)
                .unwrap_or(self.counted_to)
                .min(bytes.len());
            // The reported start includes the blank lines skipped before the record.
            while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
                offset += 1;
            }
            if offset > self.counted_to {
                self.line += bytes[self.counted_to..offset]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                self.counted_to = offset;
            }
            if self.record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            row.number = self.line;
            row.cells.truncate(self.record.len());
            for (i, text) in self.record.iter().enumerate() {
                let empty = text.trim().is_empty();
                match row.cells.get_mut(i) {
                    Some(Cell::Text(kept)) if !empty => {
                        kept.clear();
                        kept.push_str(text);
                    }
                    Some(cell) => *cell = Cell::of_text(text, empty),
                    None => row.cells.push(Cell::of_text(text, empty)),
                }
            }
            return Some(Ok(()));
        }
    }
}

fn read_workbook(bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    check_unpacked(bytes, crate::config::MAX_WORKBOOK_UNPACKED_BYTES)?;
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| TableError::Workbook(e.to_string()))?;
    let sheet_name = match sheet {
        Some(name) => name.to_string(),
        None => workbook
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| TableError::Workbook("the workbook has no worksheet".into()))?,
    };
    let range = workbook
        .worksheet_range(&sheet_name)
        .map_err(|_| TableError::NoSheet {
            wanted: sheet_name.clone(),
            present: workbook.sheet_names(),
        })?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut rows_iter = range.rows().enumerate();
    let headers = loop {
        match rows_iter.next() {
            None => return Err(TableError::Empty),
            Some((_, cells)) if cells.iter().all(|c| matches!(c, Data::Empty)) => continue,
            Some((_, cells)) => {
                let mut headers = vec![String::new(); first_col];
                headers.extend(cells.iter().map(|c| cell_of(c).text().unwrap_or_default()));
                break headers;
            }
        }
    };
    let mut rows = Vec::new();
    for (i, cells) in rows_iter {
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let mut row = vec![Cell::Empty; first_col];
        row.extend(cells.iter().map(cell_of));
        rows.push(Row {
            number: first_row + i + 1,
            cells: row,
        });
    }
    Ok(Table {
        headers,
        rows,
        sheet: Some(sheet_name),
        remarks: Vec::new(),
    })
}

/// Refuses a zipped workbook (XLSX, ODS) whose parts unpack to more than `limit` bytes:
/// first by the sizes its directory declares, then by inflating every part, counting, as a
/// part may hold more than it declares. Files that are not zip archives are left to the
/// workbook reader.
fn check_unpacked(bytes: &[u8], limit: u64) -> Result<(), TableError> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let too_large = TableError::TooLarge { limit };
    let declared = (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|part| part.size()))
        .fold(0u64, u64::saturating_add);
    if declared > limit {
        return Err(too_large);
    }
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let part = archive
            .by_index(i)
            .map_err(|e| TableError::Workbook(e.to_string()))?;
        let mut allowed = std::io::Read::take(part, limit - unpacked + 1);
        let read = std::io::copy(&mut allowed, &mut std::io::sink())
            .map_err(|e| TableError::Workbook(e.to_string()))?;
        unpacked += read;
        if unpacked > limit {
            return Err(too_large);
        }
    }
    Ok(())
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::DateTime(dt) => Cell::Text(excel_serial_to_date(dt.as_f64())),
        Data::Error(e) => Cell::Text(format!("#ERROR {e}")),
    }
}

/// Excel serial day (1900 date system) as `YYYY-MM-DD`.
fn excel_serial_to_date(serial: f64) -> String {
    // Day 25569 is 1970-01-01 (Excel's 1900 leap-year bug is behind us for modern dates).
    let days = serial.floor() as i64 - 25569;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip archive with one part of `size` zero bytes, its directory declaring
    /// `declared` (a crafted archive lies).
    fn zip_of_zeros(size: usize) -> Vec<u8> {
        use std::io::Write;
        let mut out = Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer
            .start_file("xl/worksheets/sheet1.xml", options)
            .unwrap();
        writer.write_all(&vec![0u8; size]).unwrap();
        writer.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn a_workbook_that_unpacks_beyond_the_limit_is_refused_before_it_is_read() {
        let bomb = zip_of_zeros(4 << 20);
        assert!(bomb.len() < 64 << 10, "{} bytes packed", bomb.len());
        let refused = check_unpacked(&bomb, 1 << 20).unwrap_err();
        assert!(matches!(refused, TableError::TooLarge { limit } if limit == 1 << 20));
        assert!(refused.to_string().contains("more than 1 MiB"), "{refused}");
        check_unpacked(&bomb, 4 << 20).unwrap();
        // A directory declaring less than a part holds: the inflated bytes are counted.
        let mut lying = bomb.clone();
        let declared = (4u32 << 20).to_le_bytes();
        let small = 1000u32.to_le_bytes();
        let mut patched = 0;
        for at in 0..lying.len().saturating_sub(4) {
            if lying[at..at + 4] == declared {
                lying[at..at + 4].copy_from_slice(&small);
                patched += 1;
            }
        }
        assert!(patched >= 1, "the sizes are in the headers");
        assert!(matches!(
            check_unpacked(&lying, 1 << 20),
            Err(TableError::TooLarge { .. }) | Err(TableError::Workbook(_))
        ));
        // Not a zip archive: left to the reader.
        check_unpacked(b"site,round\n", 10).unwrap();
    }

    #[test]
    fn excel_serials_become_iso_dates() {
        assert_eq!(excel_serial_to_date(25569.0), "1970-01-01");
        assert_eq!(excel_serial_to_date(43769.0), "2019-10-31");
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let table = read(b"\xEF\xBB\xBFa,b\n1,2\n\n3,\n", SourceFormat::Csv, None).unwrap();
        assert_eq!(table.headers, ["a", "b"]);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].number, 2);
        assert_eq!(table.rows[1].number, 4);
        assert_eq!(table.rows[1].cell(1), &Cell::Empty);
        assert_eq!(table.rows[1].cell(7), &Cell::Empty);
    }

    /// Rows read on a second thread are the rows read here, in order, with their numbers:
    /// more than two batches, rows longer and shorter than the one before (whose buffers
    /// they reuse), blank lines, quoted line breaks and empty cells.
    #[test]
    fn rows_read_on_a_second_thread_are_the_rows_read_in_order() {
        let mut text = String::from("code,round,n,note\n");
        for i in 0..(BATCH_ROWS * 3 + 77) {
            match i % 5 {
                0 => text.push_str(&format!("S{i},r{},{i},\"two\nlines\"\n", i % 3)),
                1 => text.push_str(&format!("S{i},r1\n")),
                2 => text.push('\n'),
                3 => text.push_str(&format!(" S{i} ,,{i},x,extra,cells\n")),
                _ => text.push_str(&format!("S{i},r2,{},\n", i * 7)),
            }
        }
        let each = |pipelined: bool| {
            let reader =
                rows_with(text.as_bytes(), SourceFormat::Csv, ReadOptions::default()).unwrap();
            let mut rows = Vec::new();
            let error = reader
                .rows
                .for_each(pipelined, |row| rows.push(row.clone()));
            assert!(error.is_none());
            rows
        };
        let expected: Vec<Row> =
            rows_with(text.as_bytes(), SourceFormat::Csv, ReadOptions::default())
                .unwrap()
                .rows
                .map(Result::unwrap)
                .collect();
        assert!(expected.len() > BATCH_ROWS * 2);
        for pipelined in [false, true] {
            let rows = each(pipelined);
            assert_eq!(rows.len(), expected.len(), "pipelined {pipelined}");
            for (got, want) in rows.iter().zip(&expected) {
                assert_eq!(got.number, want.number, "pipelined {pipelined}");
                assert_eq!(
                    got.cells, want.cells,
                    "row {} pipelined {pipelined}",
                    want.number
                );
            }
        }
    }
}
