// A small folder like a person's: real photos (landscape and portrait, one deep in a long-named
// holiday folder), a three-page PDF, a Word document, two notes, a short video, and two files
// that cannot be read (a "photo" that is text, a "PDF" that is not one) in long-named folders, so
// failures and cut paths show. Photos come from ../shared/corpora/qwen-examples (real JPEGs);
// everything else is made here. Every file gets the same modification time, so the dates the UI
// shows are the same on every run.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateFfmpeg } from '../../electron/engine/media/node/ffmpeg-locate.ts';
import { writeZip } from '../../scripts/fixtures/zip-writer.ts';
import { handWrittenPdf } from '../engine/extract/pdf-fixtures.ts';

const CORPUS = new URL('../../../shared/corpora/qwen-examples/', import.meta.url).pathname;
/** 12 June 2024, noon UTC: the files' modification time. */
export const LIBRARY_MTIME = new Date(Date.UTC(2024, 5, 12, 12));

const HOLIDAY = 'Holidays 2019 – Lisbon, Porto and the long drive along the Atlantic coast/Day 3 – Sintra';
const OLD_SCANS = 'Scans from the old external drive (2016, do not delete)/flatbed';

/** Relative paths, by what the tests do with them. */
export const FILES = {
  photos: ['Photos/IMG_2041.jpg', 'Photos/IMG_2057.jpg', 'Photos/IMG_2063.jpg', `Photos/${HOLIDAY}/IMG_20190612_184512.jpg`],
  /** Portrait (taller than wide): its tile must show it whole. */
  portrait: 'Photos/IMG_2057.jpg',
  pdf: 'Documents/travel-itinerary.pdf',
  pdfPages: 3,
  docx: 'Documents/lease-notes.docx',
  notes: ['Notes/lighthouse-keeper.md', 'Notes/aardvark-facts.md'],
  video: 'Videos/harbour-walk.mp4',
  videoSeconds: 20,
  /** Files that fail to index, with a long folder so the failures list has to cut the path. */
  broken: [`${OLD_SCANS}/old-flatbed-scan-0042-before-repair.jpg`, 'Documents/damaged-report.pdf'],
} as const;

export const FILE_COUNT = FILES.photos.length + 1 + 1 + FILES.notes.length + 1 + FILES.broken.length;
export const FAILED_COUNT = FILES.broken.length;

const ITINERARY = [
  'Day 1 itinerary: arrive in Lisbon, tram 28 to the castle, dinner in Alfama.',
  'Day 2 itinerary: train to Sintra, Pena Palace in the morning, the Moorish castle after lunch.',
  'Day 3 itinerary: drive north along the Atlantic coast to Porto, port cellars in Gaia.',
];

function docx(paragraphs: readonly string[]): Buffer {
  const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  const body = paragraphs.map((text) => `<w:p><w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`).join('');
  return writeZip([
    {
      name: '[Content_Types].xml',
      data: '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    },
    {
      name: '_rels/.rels',
      data: '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    },
    { name: 'word/document.xml', data: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ${W}><w:body>${body}<w:sectPr/></w:body></w:document>` },
  ]);
}

/** Writes the library under `dir` and returns `dir`. */
export async function makeMixedLibrary(dir: string): Promise<string> {
  const at = (rel: string) => join(dir, rel);
  const dirs = ['Photos', `Photos/${HOLIDAY}`, OLD_SCANS, 'Documents', 'Notes', 'Videos'];
  for (const d of dirs) await mkdir(at(d), { recursive: true });

  const sources = ['photo_img_0.jpg', 'photo_img_2.jpg', 'photo_img_6.jpg', 'photo_img_4.jpg'];
  for (const [i, rel] of FILES.photos.entries()) await copyFile(join(CORPUS, sources[i]!), at(rel));

  await writeFile(
    at(FILES.pdf),
    handWrittenPdf(
      ITINERARY.map((line, i) => ({
        width: 595,
        height: 842,
        content: `BT /F1 28 Tf 60 760 Td (Portugal, day ${i + 1}) Tj ET BT /F1 14 Tf 60 720 Td (${line}) Tj ET`,
      })),
      { info: { Title: 'Travel itinerary' } },
    ),
  );
  await writeFile(
    at(FILES.docx),
    docx([
      'Notes on the lease',
      'The lease runs for two years from the first of March; the deposit is two months of rent.',
      'Ask the landlord about the boiler service and who pays for the garden.',
    ]),
  );
  await writeFile(at(FILES.notes[0]), '# The keeper\n\nEvery evening the lighthouse keeper polished the Fresnel lens before lighting the lamp.\n');
  await writeFile(at(FILES.notes[1]), '# Aardvarks\n\nAardvarks dig burrows and eat termites at night, sleeping through the hottest hours.\n');

  const { ffmpeg } = await locateFfmpeg();
  execFileSync(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=10:duration=${FILES.videoSeconds}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', at(FILES.video)]);

  await writeFile(at(FILES.broken[0]), 'This was a scan once; now it is only these words.\n');
  await writeFile(at(FILES.broken[1]), 'Not a PDF at all: the download stopped before it began.\n');

  const all = [...FILES.photos, FILES.pdf, FILES.docx, ...FILES.notes, FILES.video, ...FILES.broken];
  for (const rel of all) await utimes(at(rel), LIBRARY_MTIME, LIBRARY_MTIME);
  return dir;
}
