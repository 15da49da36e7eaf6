//! Page layout: a [`Printout`] set on A4 pages — wrapped lines, tables whose rows never
//! split across a page (a table continued on the next page repeats its header), the
//! signature block kept together, and "Seite n von m" on every page. Alongside the
//! positions it builds the structure tree (headings, paragraphs, tables, the figure)
//! that makes the PDF accessible, so drawing (`pdf.rs`) only has to follow it.
//!
//! Nothing here is clipped: a value that does not fit its column gets more lines, never
//! fewer characters.

use super::fonts::{Fonts, Weight};
use super::{Printout, Table};

/// A4 in points.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
/// 20 mm margins left and right, as the app's printout had.
const LEFT: f32 = 56.7;
const RIGHT: f32 = PAGE_WIDTH - 56.7;
const TOP: f32 = 56.7;
/// Content ends here; the page number sits below.
const BOTTOM: f32 = PAGE_HEIGHT - 62.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 34.0;
const CELL_PADDING: f32 = 2.5;
/// The signature box, at most 80 × 30 mm as on the app's printout.
const SIGNATURE_MAX_WIDTH: f32 = 226.8;
const SIGNATURE_MAX_HEIGHT: f32 = 85.0;

/// Type sizes and line heights.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub(crate) weight: Weight,
    pub(crate) size: f32,
    line: f32,
}

const TITLE: Style = Style {
    weight: Weight::Bold,
    size: 16.0,
    line: 20.0,
};
const HEADING: Style = Style {
    weight: Weight::Bold,
    size: 12.0,
    line: 16.0,
};
const BODY: Style = Style {
    weight: Weight::Regular,
    size: 10.0,
    line: 13.0,
};
const BODY_BOLD: Style = Style {
    weight: Weight::Bold,
    ..BODY
};
const SMALL: Style = Style {
    weight: Weight::Regular,
    size: 9.0,
    line: 12.0,
};

/// What a structure element is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tag {
    /// The document title.
    H1(String),
    /// A section heading.
    H2(String),
    P,
    Table,
    Tr,
    /// A column header cell.
    ThColumn,
    /// A row header cell (the label of a field).
    ThRow,
    Td,
    /// An image with its alternative text (may be empty: then the PDF/UA check refuses
    /// the document).
    Figure(String),
}

/// A structure element and, in reading order, what belongs to it.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) tag: Tag,
    pub(crate) children: Vec<Child>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Child {
    Node(usize),
    /// Item `item` of page `page`.
    Content {
        page: usize,
        item: usize,
    },
}

/// Something drawn at a position (y grows downwards; text is placed by its baseline).
#[derive(Debug)]
pub(crate) enum Item {
    /// Real content when `tagged`, else an artifact (page numbers, a repeated header).
    Text {
        x: f32,
        y: f32,
        text: String,
        style: Style,
        tagged: bool,
        footer: bool,
    },
    /// A horizontal line (an artifact).
    Rule { x1: f32, x2: f32, y: f32 },
    /// The signature image (tagged, under a figure).
    Image { x: f32, y: f32, w: f32, h: f32 },
}

/// The laid-out document.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    pub(crate) pages: Vec<Vec<Item>>,
    pub(crate) nodes: Vec<Node>,
    /// Top-level structure elements in reading order.
    pub(crate) roots: Vec<usize>,
    /// Bookmarks: heading text, page, y.
    pub(crate) outline: Vec<(String, usize, f32)>,
}

/// Lays out `printout`; `signature_size` is the signature image's pixel size, if any.
pub(crate) fn lay_out(
    printout: &Printout,
    fonts: &Fonts,
    signature_size: Option<(u32, u32)>,
) -> Layout {
    let mut w = Writer {
        fonts,
        out: Layout::default(),
        y: TOP,
    };
    w.out.pages.push(Vec::new());

    let title = w.paragraph(Tag::H1(printout.title.clone()), &printout.title, TITLE);
    w.out.outline.push((printout.title.clone(), 0, TOP));
    w.out.roots.push(title);
    let subtitle = w.paragraph(Tag::P, &printout.subtitle, BODY);
    w.out.roots.push(subtitle);
    w.y += 6.0;

    w.section(
        &printout.facts_heading,
        std::slice::from_ref(&printout.facts),
    );
    for section in &printout.sections {
        w.section(&section.heading, &section.tables);
    }

    // The declaration and the signature under it stay on one page: a citizen signs
    // what they can see above the line.
    let closing = w.closing_height(printout, signature_size);
    if w.y + closing > BOTTOM && TOP + closing <= BOTTOM {
        w.new_page();
    }
    if !printout.notice.is_empty() {
        w.heading(&printout.notice_heading);
        for text in &printout.notice {
            let p = w.paragraph(Tag::P, text, BODY);
            w.out.roots.push(p);
            w.y += 4.0;
        }
    }
    w.signature_block(printout, signature_size);
    w.page_numbers();
    w.out
}

struct Writer<'f> {
    fonts: &'f Fonts,
    out: Layout,
    /// Where the next block starts on the current page.
    y: f32,
}

impl Writer<'_> {
    fn page(&self) -> usize {
        self.out.pages.len() - 1
    }

    fn new_page(&mut self) {
        self.out.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` more fits on this one (a block taller than a
    /// whole page starts at the top and flows on).
    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    fn node(&mut self, tag: Tag) -> usize {
        self.out.nodes.push(Node {
            tag,
            children: Vec::new(),
        });
        self.out.nodes.len() - 1
    }

    fn attach(&mut self, parent: usize, child: usize) {
        self.out.nodes[parent].children.push(Child::Node(child));
    }

    fn item(&mut self, item: Item) -> Child {
        let page = self.page();
        self.out.pages[page].push(item);
        Child::Content {
            page,
            item: self.out.pages[page].len() - 1,
        }
    }

    fn text(&mut self, owner: Option<usize>, x: f32, y: f32, text: String, style: Style) {
        let child = self.item(Item::Text {
            x,
            y,
            text,
            style,
            tagged: owner.is_some(),
            footer: false,
        });
        if let Some(owner) = owner {
            self.out.nodes[owner].children.push(child);
        }
    }

    /// A block of wrapped text over the full width, breaking pages between lines.
    fn paragraph(&mut self, tag: Tag, text: &str, style: Style) -> usize {
        let node = self.node(tag);
        let lines = self
            .fonts
            .face(style.weight)
            .wrap(text, style.size, RIGHT - LEFT);
        for line in lines {
            self.ensure(style.line);
            let baseline = self.y + style.size;
            self.text(Some(node), LEFT, baseline, line, style);
            self.y += style.line;
        }
        node
    }

    fn heading(&mut self, text: &str) {
        // A heading never ends a page: keep it with two lines of what follows.
        self.ensure(HEADING.line + 8.0 + 3.0 * BODY.line);
        self.y += 8.0;
        self.out
            .outline
            .push((text.to_owned(), self.page(), self.y));
        let h = self.paragraph(Tag::H2(text.to_owned()), text, HEADING);
        self.out.roots.push(h);
        self.y += 3.0;
    }

    fn section(&mut self, heading: &str, tables: &[Table]) {
        if tables.iter().all(|t| t.rows.is_empty()) {
            return;
        }
        self.heading(heading);
        for table in tables {
            let t = self.table(table);
            self.out.roots.push(t);
            self.y += 8.0;
        }
    }

    /// Column widths: the label column and the value columns.
    fn widths(columns: usize) -> Vec<f32> {
        let total = RIGHT - LEFT;
        if columns <= 2 {
            vec![total * 0.36, total * 0.64]
        } else {
            let label = total * 0.28;
            let rest = (total - label) / (columns - 1) as f32;
            std::iter::once(label)
                .chain(std::iter::repeat_n(rest, columns - 1))
                .collect()
        }
    }

    fn table(&mut self, table: &Table) -> usize {
        let node = self.node(Tag::Table);
        let columns = table
            .header
            .as_ref()
            .map_or(0, Vec::len)
            .max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
        let widths = Self::widths(columns);
        // The header stays with the first row.
        let header_height = table
            .header
            .as_ref()
            .map_or(0.0, |h| self.row_height(h, &widths, BODY_BOLD));
        let first = table
            .rows
            .first()
            .map_or(0.0, |r| self.row_height(r, &widths, BODY));
        self.ensure(header_height + first);
        if self.y > TOP {
            self.item(Item::Rule {
                x1: LEFT,
                x2: RIGHT,
                y: self.y,
            });
        }
        if let Some(header) = &table.header {
            self.row(Some(node), header, &widths, true);
        }
        for row in &table.rows {
            let height = self.row_height(row, &widths, BODY);
            if self.y + height > BOTTOM && self.y > TOP {
                self.new_page();
                if let Some(header) = &table.header {
                    // Repeated for the eye only; the structure has it once.
                    self.row(None, header, &widths, true);
                }
            }
            self.row(Some(node), row, &widths, false);
        }
        node
    }

    fn cell_lines(&self, text: &str, width: f32, style: Style) -> Vec<String> {
        self.fonts
            .face(style.weight)
            .wrap(text, style.size, width - 2.0 * CELL_PADDING)
    }

    fn row_height(&self, cells: &[String], widths: &[f32], style: Style) -> f32 {
        let lines = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| self.cell_lines(c, *w, style).len())
            .max()
            .unwrap_or(1);
        lines as f32 * style.line + 2.0 * CELL_PADDING
    }

    /// One row; `table` is `None` for a repeated header (drawn as an artifact).
    fn row(&mut self, table: Option<usize>, cells: &[String], widths: &[f32], header: bool) {
        let style = if header { BODY_BOLD } else { BODY };
        let top = self.y;
        let height = self.row_height(cells, widths, style);
        if top == TOP {
            self.item(Item::Rule {
                x1: LEFT,
                x2: RIGHT,
                y: top,
            });
        }
        let tr = table.map(|t| {
            let tr = self.node(Tag::Tr);
            self.attach(t, tr);
            tr
        });
        let mut x = LEFT;
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            let cell_node = tr.map(|tr| {
                let tag = match (header, i) {
                    (true, _) => Tag::ThColumn,
                    (false, 0) => Tag::ThRow,
                    (false, _) => Tag::Td,
                };
                let n = self.node(tag);
                self.attach(tr, n);
                n
            });
            // An empty cell says so: a reader hears "–" instead of skipping a column.
            let shown = if cell.trim().is_empty() { "–" } else { cell };
            let cell_style = if i == 0 && !header { BODY } else { style };
            for (k, line) in self
                .cell_lines(shown, *width, cell_style)
                .into_iter()
                .enumerate()
            {
                let baseline = top + CELL_PADDING + cell_style.size + k as f32 * cell_style.line;
                self.text(cell_node, x + CELL_PADDING, baseline, line, cell_style);
            }
            x += width;
        }
        self.y = top + height;
        self.item(Item::Rule {
            x1: LEFT,
            x2: RIGHT,
            y: self.y,
        });
    }

    fn lines(&self, text: &str, style: Style) -> usize {
        self.fonts
            .face(style.weight)
            .wrap(text, style.size, RIGHT - LEFT)
            .len()
    }

    /// The height of the notice and the signature block together.
    fn closing_height(&self, printout: &Printout, signature_size: Option<(u32, u32)>) -> f32 {
        let notice: f32 = if printout.notice.is_empty() {
            0.0
        } else {
            8.0 + HEADING.line
                + 3.0
                + printout
                    .notice
                    .iter()
                    .map(|p| self.lines(p, BODY) as f32 * BODY.line + 4.0)
                    .sum::<f32>()
        };
        notice + self.signature_height(printout, signature_size)
    }

    fn signature_size(signature_size: Option<(u32, u32)>) -> (f32, f32) {
        match signature_size {
            Some((pw, ph)) if pw > 0 && ph > 0 => {
                let scale = (SIGNATURE_MAX_WIDTH / pw as f32).min(SIGNATURE_MAX_HEIGHT / ph as f32);
                (pw as f32 * scale, ph as f32 * scale)
            }
            _ => (0.0, SIGNATURE_MAX_HEIGHT),
        }
    }

    fn signature_height(&self, printout: &Printout, signature_size: Option<(u32, u32)>) -> f32 {
        let (_, h) = Self::signature_size(signature_size);
        12.0 + self.lines(&printout.place_date, BODY) as f32 * BODY.line
            + 6.0
            + h
            + 6.0
            + self.lines(&printout.signature_line, SMALL) as f32 * SMALL.line
    }

    fn signature_block(&mut self, printout: &Printout, signature_size: Option<(u32, u32)>) {
        let (w, h) = Self::signature_size(signature_size);
        // Place and date, the signature and the line under it stay on one page.
        self.ensure(self.signature_height(printout, signature_size));
        self.y += 12.0;
        let place = self.paragraph(Tag::P, &printout.place_date, BODY);
        self.out.roots.push(place);
        self.y += 6.0;
        if let Some(signature) = &printout.signature {
            let figure = self.node(Tag::Figure(signature.alt_text.clone()));
            let child = self.item(Item::Image {
                x: LEFT,
                y: self.y,
                w,
                h,
            });
            self.out.nodes[figure].children.push(child);
            self.out.roots.push(figure);
        }
        self.y += h + 4.0;
        self.item(Item::Rule {
            x1: LEFT,
            x2: LEFT + SIGNATURE_MAX_WIDTH + 28.0,
            y: self.y,
        });
        self.y += 2.0;
        let line = self.paragraph(Tag::P, &printout.signature_line, SMALL);
        self.out.roots.push(line);
    }

    fn page_numbers(&mut self) {
        let total = self.out.pages.len();
        for (n, page) in self.out.pages.iter_mut().enumerate() {
            let text = format!("Seite {} von {total}", n + 1);
            let width = self.fonts.face(SMALL.weight).width(&text, SMALL.size);
            page.push(Item::Text {
                x: RIGHT - width,
                y: FOOTER_BASELINE,
                text,
                style: SMALL,
                tagged: false,
                footer: true,
            });
        }
    }
}
