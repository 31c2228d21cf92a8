import { describe, it, expect } from 'vitest';
import { parseXml, xmlChild, xmlChildren, xmlText, XmlError } from '../../../../src/engine/data/xml';

describe('XML reader', () => {
  it('reads a VOC annotation', () => {
    const doc = parseXml(`<?xml version="1.0"?>
<!-- a comment -->
<annotation verified="no">
  <filename>2008_000123.jpg</filename>
  <size><width>500</width><height>375</height></size>
  <object><name>dog &amp; co</name><bndbox><xmin>52</xmin><xmax>40</xmax></bndbox></object>
  <object><name><![CDATA[cat<1>]]></name><difficult/></object>
</annotation>`);
    expect(doc.name).toBe('annotation');
    expect(doc.attributes.verified).toBe('no');
    expect(xmlText(doc, 'filename')).toBe('2008_000123.jpg');
    expect(xmlText(xmlChild(doc, 'size')!, 'width')).toBe('500');
    const objects = xmlChildren(doc, 'object');
    expect(objects).toHaveLength(2);
    expect(xmlText(objects[0], 'name')).toBe('dog & co');
    expect(xmlText(objects[1], 'name')).toBe('cat<1>');
    expect(xmlChild(objects[1], 'difficult')).toBeDefined();
  });

  it('rejects malformed documents with the line and what was expected', () => {
    expect(() => parseXml('<a>\n<b>\n</a>')).toThrow(/line 3: expected <\/b> \(opened at line 2\), found <\/a>/);
    expect(() => parseXml('<a><b></b>')).toThrow(/ends before <a>/);
    expect(() => parseXml('')).toThrow(/no root element/);
    expect(() => parseXml('<a x=1></a>')).toThrow(/must be quoted/);
    expect(() => parseXml('<a></a><b></b>')).toThrow(/second root/);
    expect(() => parseXml('junk <a></a>')).toThrow(/text outside the root/);
    expect(() => parseXml('<a><!-- never closed </a>')).toThrow(XmlError);
  });
});
