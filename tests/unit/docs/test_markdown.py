"""The Markdown readers the documentation checks rely on, on small made-up documents."""

from __future__ import annotations

from . import markdown

SAMPLE = """# Title

See [the API](api.md#spec), ![a diagram](img/flow.png) and [a site](https://example.org).
`[not a link](nowhere.md)` stays code.

[ref]: ../README.md

## `kubectl get vdl` columns

```sh
# not a heading
echo "[nor a link](gone.md)"
```

## Retries and backoff

| Metric | Type |
|---|---|
| `videodl_attempts_total` | counter |

## Retries and backoff
"""


class TestBlocks:
    def test_finds_fenced_blocks_with_their_language(self) -> None:
        """A fenced block is returned with its info string's first word and its text."""
        (block,) = markdown.blocks(SAMPLE)
        assert block.lang == "sh"
        assert block.body == '# not a heading\necho "[nor a link](gone.md)"\n'

    def test_longer_fences_hold_shorter_ones(self) -> None:
        """A four-backtick fence is not closed by three backticks inside it."""
        text = "````md\n```yaml\nkind: X\n```\n````\n"
        (block,) = markdown.blocks(text)
        assert block.lang == "md"
        assert "kind: X" in block.body


class TestLinks:
    def test_links_images_and_references_outside_code(self) -> None:
        """Inline links, images and reference definitions count; code spans and blocks do not."""
        assert markdown.links(SAMPLE) == [
            "api.md#spec",
            "img/flow.png",
            "https://example.org",
            "../README.md",
        ]

    def test_external_targets_are_recognised(self) -> None:
        """A target with a scheme leaves the repository; a relative path does not."""
        assert markdown.is_external("https://example.org")
        assert markdown.is_external("mailto:someone@example.org")
        assert not markdown.is_external("docs/api.md#spec")


class TestAnchors:
    def test_slug_drops_punctuation_and_keeps_hyphens(self) -> None:
        """GitHub's anchor: lowercase, punctuation dropped, each space a hyphen."""
        assert markdown.slug("Crash safety: the write-ahead run record") == (
            "crash-safety-the-write-ahead-run-record"
        )
        assert markdown.slug("spec.output.persistentVolumeClaim") == (
            "specoutputpersistentvolumeclaim"
        )
        assert markdown.slug("Finished objects: ttlSecondsAfterFinished") == (
            "finished-objects-ttlsecondsafterfinished"
        )

    def test_headings_in_code_are_ignored_and_repeats_numbered(self) -> None:
        """A `#` line in a code block is no heading; a repeated heading gets `-1`."""
        assert markdown.anchors(SAMPLE) == {
            "title",
            "kubectl-get-vdl-columns",
            "retries-and-backoff",
            "retries-and-backoff-1",
        }


class TestTables:
    def test_rows_keep_code_spans_and_drop_the_delimiter(self) -> None:
        """A pipe table yields its header and body rows with inline code intact."""
        (table,) = markdown.tables(SAMPLE)
        assert table == [["Metric", "Type"], ["`videodl_attempts_total`", "counter"]]
        assert markdown.code_spans(table[1][0]) == ["videodl_attempts_total"]


class TestSection:
    def test_section_stops_at_the_next_heading_of_its_level(self) -> None:
        """A section holds its lines up to the next heading of the same level."""
        body = markdown.section(SAMPLE, "`kubectl get vdl` columns")
        assert "# not a heading" in body
        assert "Retries" not in body


class TestNames:
    def test_metric_names_and_keys_are_found_everywhere(self) -> None:
        """Series names and videodl.dev keys are found in prose and in code alike."""
        text = (
            "rate(videodl_retries_total[5m]) and `videodl.dev/retry=1` or videodl_ "
            "but not videodownloads.videodl.dev/status"
        )
        assert markdown.metric_names(text) == {"videodl_retries_total"}
        assert markdown.videodl_keys(text) == {"videodl.dev/retry"}
