//! Writing the laid-out printout with krilla as PDF/A-3a and PDF/UA-1 at once: fonts
//! embedded as subsets, every line of real content tagged and placed in the structure
//! tree, rules and page numbers marked as artifacts, an outline, the document language,
//! and — for a draft — the captured data attached as JSON (PDF/A-3 allows associated
//! files). krilla checks both standards while writing and refuses to finish a document
//! that violates either; that refusal is passed on, never worked around.

use krilla::color::rgb;
use krilla::configure::{Accessibility, Archival, ConfigurationBuilder, ValidationError};
use krilla::destination::XyzDestination;
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, Node as TagNode, SpanTag, TableHeaderScope,
    Tag as KrillaTag, TagGroup, TagTree,
};
use krilla::text::TextDirection;
use krilla::{Document, SerializeSettings};

use super::fonts::Fonts;
use super::layout::{Child, Item, Layout, Tag, PAGE_HEIGHT, PAGE_WIDTH};
use super::{Printout, PrintoutError};

/// The name of the attached form data inside the PDF.
pub const DATA_FILE_NAME: &str = "erfasste-angaben.json";

/// Writes `layout` as a validated PDF.
pub(crate) fn write(
    printout: &Printout,
    layout: &Layout,
    fonts: &Fonts,
    signature: Option<Image>,
) -> Result<Vec<u8>, PrintoutError> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_A)
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|e| PrintoutError::Writer(format!("{e:?}")))?;
    let mut document = Document::new_with(SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    });

    // ids[page][item]: the marked content of each tagged item, taken once by the tree.
    let mut ids: Vec<Vec<Option<Identifier>>> = Vec::with_capacity(layout.pages.len());
    for items in &layout.pages {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| PrintoutError::Writer("bad page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let page_ids = items
            .iter()
            .map(|item| draw(&mut surface, item, fonts, signature.as_ref()))
            .collect();
        surface.finish();
        page.finish();
        ids.push(page_ids);
    }

    let mut tree = TagTree::new().with_lang(Some("de".to_owned()));
    for &root in &layout.roots {
        if let Some(group) = group(layout, root, &mut ids) {
            tree.push(group);
        }
    }
    document.set_tag_tree(tree);

    let mut outline = Outline::new();
    for (text, page, y) in &layout.outline {
        outline.push_child(OutlineNode::new(
            text.clone(),
            XyzDestination::new(*page, Point::from_xy(0.0, *y)),
        ));
    }
    document.set_outline(outline);

    let created = date_time(printout.created);
    document.set_metadata(
        Metadata::new()
            .title(printout.title.clone())
            .language("de".to_owned())
            .creator("Fieldkit".to_owned())
            .creation_date(created),
    );

    if let Some(json) = &printout.attached_data {
        document.embed_file(EmbeddedFile {
            path: DATA_FILE_NAME.to_owned(),
            mime_type: MimeType::new("application/json"),
            description: Some("Die erfassten Angaben, wie gedruckt, als JSON".to_owned()),
            association_kind: AssociationKind::Source,
            data: json.clone().into(),
            modification_date: Some(created),
            compress: Some(true),
            location: None,
        });
    }

    document.finish().map_err(|e| match e {
        KrillaError::Validation(errors) => {
            PrintoutError::NotConforming(errors.iter().map(|(e, _)| describe(e)).collect())
        }
        other => PrintoutError::Writer(other.to_string()),
    })
}

/// Draws one item; returns its marked-content id if it is real content.
fn draw(
    surface: &mut Surface<'_>,
    item: &Item,
    fonts: &Fonts,
    signature: Option<&Image>,
) -> Option<Identifier> {
    match item {
        Item::Text {
            x,
            y,
            text,
            style,
            tagged,
            footer,
        } => {
            let id = if *tagged {
                // krilla itself gives a base letter with combining marks (L̥, C̨̆) its
                // exact text as ActualText, so screen readers get the sequence whole.
                let span = SpanTag::empty();
                Some(surface.start_tagged(ContentTag::Span(span)))
            } else {
                let kind = if *footer {
                    ArtifactType::Footer
                } else {
                    ArtifactType::PaginationOther
                };
                surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
                None
            };
            surface.draw_text(
                Point::from_xy(*x, *y),
                fonts.face(style.weight).pdf.clone(),
                style.size,
                text,
                false,
                TextDirection::Auto,
            );
            surface.end_tagged();
            id
        }
        Item::Rule { x1, x2, y } => {
            surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
                ArtifactType::Layout,
            )));
            let mut path = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(*x1, *y, x2 - x1, 0.6) {
                path.push_rect(rect);
            }
            if let Some(path) = path.finish() {
                surface.set_fill(Some(Fill {
                    paint: rgb::Color::new(120, 120, 120).into(),
                    ..Fill::default()
                }));
                surface.draw_path(&path);
                surface.set_fill(None);
            }
            surface.end_tagged();
            None
        }
        Item::Image { x, y, w, h } => {
            let (image, size) = (signature?, Size::from_wh(*w, *h)?);
            let id = surface.start_tagged(ContentTag::Other);
            surface.push_transform(&Transform::from_translate(*x, *y));
            surface.draw_image(image.clone(), size);
            surface.pop();
            surface.end_tagged();
            Some(id)
        }
    }
}

/// The structure element `node` with its children, taking each content id once.
fn group(layout: &Layout, node: usize, ids: &mut [Vec<Option<Identifier>>]) -> Option<TagGroup> {
    let n = &layout.nodes[node];
    let mut children: Vec<TagNode> = Vec::new();
    for child in &n.children {
        match *child {
            Child::Node(c) => {
                if let Some(g) = group(layout, c, ids) {
                    children.push(g.into());
                }
            }
            Child::Content { page, item } => {
                if let Some(id) = ids.get_mut(page)?.get_mut(item)?.take() {
                    children.push(id.into());
                }
            }
        }
    }
    if children.is_empty() {
        return None;
    }
    let tag: krilla::tagging::TagKind = match &n.tag {
        Tag::H1(title) => KrillaTag::Hn(nonzero(1), Some(title.clone())).into(),
        Tag::H2(title) => KrillaTag::Hn(nonzero(2), Some(title.clone())).into(),
        Tag::P => KrillaTag::P.into(),
        Tag::Table => KrillaTag::Table.into(),
        Tag::Tr => KrillaTag::TR.into(),
        Tag::ThColumn => KrillaTag::TH(TableHeaderScope::Column).into(),
        Tag::ThRow => KrillaTag::TH(TableHeaderScope::Row).into(),
        Tag::Td => KrillaTag::TD.into(),
        // No alternative text is no alternative text: PDF/UA refuses it below.
        Tag::Figure(alt) => {
            let alt = Some(alt.trim().to_owned()).filter(|a| !a.is_empty());
            KrillaTag::Figure(alt).into()
        }
    };
    Some(TagGroup::with_children(tag, children))
}

fn nonzero(level: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(level).unwrap_or(std::num::NonZeroU16::MIN)
}

fn date_time(t: chrono::NaiveDateTime) -> DateTime {
    use chrono::{Datelike as _, Timelike as _};
    DateTime::new(t.year().clamp(0, 9999) as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
}

/// A violation in words, without the document's text (it holds personal data): a
/// missing glyph is named by its code points only.
fn describe(error: &ValidationError) -> String {
    match error {
        ValidationError::ContainsNotDefGlyph(_, _, text) => {
            let points: Vec<String> = text
                .chars()
                .map(|c| format!("U+{:04X}", c as u32))
                .collect();
            format!(
                "the printout font has no glyph for {} (not a DIN 91379 character)",
                points.join(" ")
            )
        }
        ValidationError::MissingAltText(_) => {
            "an image has no alternative text (PDF/UA-1 7.3)".to_owned()
        }
        ValidationError::NoDocumentTitle => "the document has no title".to_owned(),
        ValidationError::NoDocumentLanguage => "the document has no language".to_owned(),
        ValidationError::MissingTagging => "the document is not tagged".to_owned(),
        other => {
            // The variant's name only: some carry fonts or text.
            let debug = format!("{other:?}");
            debug
                .split(['(', ' ', '{'])
                .next()
                .unwrap_or("violation")
                .to_owned()
        }
    }
}
