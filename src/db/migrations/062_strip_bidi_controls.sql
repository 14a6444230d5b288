-- Direction controls (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C) stored before ingest and fetch stripped them
-- (src/corpus/bidi.ts): a title holding U+202E shows reversed on every page. The same set, removed from what is stored.
UPDATE papers SET
  title = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(title, char(1564), ''), char(8206), ''), char(8207), ''), char(8234), ''), char(8235), ''), char(8236), ''), char(8237), ''), char(8238), ''), char(8294), ''), char(8295), ''), char(8296), ''), char(8297), ''),
  abstract = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(abstract, char(1564), ''), char(8206), ''), char(8207), ''), char(8234), ''), char(8235), ''), char(8236), ''), char(8237), ''), char(8238), ''), char(8294), ''), char(8295), ''), char(8296), ''), char(8297), ''),
  author_names = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(author_names, char(1564), ''), char(8206), ''), char(8207), ''), char(8234), ''), char(8235), ''), char(8236), ''), char(8237), ''), char(8238), ''), char(8294), ''), char(8295), ''), char(8296), ''), char(8297), ''),
  tldr = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(tldr, char(1564), ''), char(8206), ''), char(8207), ''), char(8234), ''), char(8235), ''), char(8236), ''), char(8237), ''), char(8238), ''), char(8294), ''), char(8295), ''), char(8296), ''), char(8297), ''),
  organization = replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(organization, char(1564), ''), char(8206), ''), char(8207), ''), char(8234), ''), char(8235), ''), char(8236), ''), char(8237), ''), char(8238), ''), char(8294), ''), char(8295), ''), char(8296), ''), char(8297), '')
-- The class below holds those code points themselves (SQL has no escape for them in a GLOB).
WHERE title GLOB '*[؜‎‏‪‫‬‭‮⁦⁧⁨⁩]*' OR abstract GLOB '*[؜‎‏‪‫‬‭‮⁦⁧⁨⁩]*' OR author_names GLOB '*[؜‎‏‪‫‬‭‮⁦⁧⁨⁩]*' OR tldr GLOB '*[؜‎‏‪‫‬‭‮⁦⁧⁨⁩]*' OR organization GLOB '*[؜‎‏‪‫‬‭‮⁦⁧⁨⁩]*';
-- The search index is rebuilt at open when the generations differ (src/db/search-index.ts): it then holds the clean text.
UPDATE corpus_sync SET generation = generation + 1 WHERE changes() > 0;
