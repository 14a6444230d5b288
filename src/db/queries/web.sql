-- name: web-home-papers
-- A taste of the digest for visitors: most upvoted, then newest. The digest area owns the real trending score.
SELECT id, title, abstract, upvotes, published_on, first_listed_on, links, authors, author_names, organization, comments, tldr, arxiv_id FROM papers
ORDER BY COALESCE(upvotes, 0) DESC, COALESCE(published_on, first_listed_on, '') DESC, id DESC
LIMIT ?;
