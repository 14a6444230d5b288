-- The home page shows the top few papers by this order on every visit: without an index it sorts the whole corpus
-- per request (a temp B-tree; cost grows with the corpus). The expressions must match web-home-papers exactly.
CREATE INDEX papers_home_order ON papers (COALESCE(upvotes, 0) DESC, COALESCE(published_on, first_listed_on, '') DESC, id DESC);
