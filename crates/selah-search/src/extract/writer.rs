//! A writer of light Markdown for the structured formats (HTML, DOCX, PDF): callers say "text",
//! "line break", "paragraph break", "heading of level n", and the writer decides what actually
//! reaches the output, so empty elements leave no stray blank lines or `#` prefixes behind.

/// The strongest break requested since the last visible character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Break {
    None,
    Space,
    Line,
    Paragraph,
}

/// Accumulates light Markdown; see the module documentation.
#[derive(Debug)]
pub(crate) struct BlockWriter {
    out: String,
    pending: Break,
    /// Inside a heading a line break would cut the line in two, so breaks there are demoted
    /// to spaces; the same holds in table cells (a counter, as cells may nest).
    heading: Option<usize>,
    inline_only: usize,
}

impl Default for BlockWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockWriter {
    pub(crate) fn new() -> Self {
        Self {
            out: String::new(),
            pending: Break::None,
            heading: None,
            inline_only: 0,
        }
    }

    /// Appends text with HTML whitespace rules: every run of whitespace becomes one space, and
    /// none is written at the start or end of a line.
    pub(crate) fn text(&mut self, text: &str) {
        for (i, word) in text.split(char::is_whitespace).enumerate() {
            if i > 0 {
                self.space();
            }
            if !word.is_empty() {
                self.flush_break();
                self.out.push_str(word);
            }
        }
    }

    /// Appends text whose spaces and line breaks matter (`<pre>`, DOCX runs, tabs).
    pub(crate) fn preformatted(&mut self, text: &str) {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.line();
            }
            if !line.is_empty() {
                self.flush_break();
                self.out.push_str(line);
            }
        }
    }

    /// A single space between words (collapses with any other whitespace).
    pub(crate) fn space(&mut self) {
        self.request(Break::Space);
    }

    /// A line break inside the current block.
    pub(crate) fn line(&mut self) {
        self.request(Break::Line);
    }

    /// The end of a block: the next text starts after one blank line.
    pub(crate) fn paragraph(&mut self) {
        self.request(Break::Paragraph);
    }

    /// Starts a heading of `level` (1–6); it ends with [`BlockWriter::end_heading`].
    pub(crate) fn start_heading(&mut self, level: usize) {
        self.paragraph();
        self.heading = Some(level.clamp(1, 6));
    }

    /// Ends the heading started last.
    pub(crate) fn end_heading(&mut self) {
        self.heading = None;
        self.paragraph();
    }

    /// Enters a region (a table cell) where line and paragraph breaks become spaces.
    pub(crate) fn start_inline(&mut self) {
        self.inline_only += 1;
    }

    /// Leaves the region entered by [`BlockWriter::start_inline`].
    pub(crate) fn end_inline(&mut self) {
        self.inline_only = self.inline_only.saturating_sub(1);
    }

    /// Writes `separator` verbatim unless the current line is still empty (table cells).
    pub(crate) fn separator(&mut self, separator: &str) {
        if self.line_has_text() {
            // The separator carries its own spaces; a pending space would double them.
            if self.pending == Break::Space {
                self.pending = Break::None;
            }
            self.flush_break();
            self.out.push_str(separator);
            self.pending = Break::None;
        }
    }

    /// Whether anything visible was written on the current line (pending breaks aside).
    pub(crate) fn line_has_text(&self) -> bool {
        self.pending < Break::Line && !self.out.is_empty() && !self.out.ends_with('\n')
    }

    /// The text written so far, normalised.
    pub(crate) fn finish(self) -> String {
        super::normalize::normalize(&self.out)
    }

    fn request(&mut self, mut wanted: Break) {
        if (self.heading.is_some() || self.inline_only > 0) && wanted > Break::Space {
            wanted = Break::Space;
        }
        if wanted > self.pending {
            self.pending = wanted;
        }
    }

    /// Writes the pending break (if there is text before it) and, at the start of a heading
    /// line, its `#` prefix. Called just before visible text.
    fn flush_break(&mut self) {
        let at_start = self.out.is_empty();
        match self.pending {
            _ if at_start => {}
            Break::None => {}
            Break::Space => {
                if !self.out.ends_with(['\n', ' ']) {
                    self.out.push(' ');
                }
            }
            Break::Line => self.out.push('\n'),
            Break::Paragraph => self.out.push_str("\n\n"),
        }
        self.pending = Break::None;
        if let Some(level) = self.heading
            && (self.out.is_empty() || self.out.ends_with('\n'))
        {
            for _ in 0..level {
                self.out.push('#');
            }
            self.out.push(' ');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BlockWriter;

    #[test]
    fn collapses_whitespace_and_breaks() {
        let mut w = BlockWriter::new();
        w.paragraph();
        w.text("  Hello \n  world ");
        w.line();
        w.line();
        w.text("next");
        w.paragraph();
        w.paragraph();
        w.start_heading(2);
        w.text(" Title ");
        w.line();
        w.text("more");
        w.end_heading();
        w.start_heading(1);
        w.end_heading();
        w.text("after");
        w.paragraph();
        assert_eq!(w.finish(), "Hello world\nnext\n\n## Title more\n\nafter\n");
    }

    #[test]
    fn table_separators_only_between_cells() {
        let mut w = BlockWriter::new();
        for row in [["a", "b"], ["", "d"]] {
            w.line();
            for cell in row {
                w.separator(" | ");
                w.start_inline();
                w.text(cell);
                w.paragraph();
                w.end_inline();
            }
        }
        assert_eq!(w.finish(), "a | b\nd\n");
    }
}
