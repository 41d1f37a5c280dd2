-- The block rollups (`score_block_rollup`, `facet_block_rollup`) sum UTC calendar months
-- instead of 32-day blocks; a block's number is its month since January 1970. A month of a
-- trend, the pages' default, lay across two 32-day blocks, so it read half a month of daily
-- rows at an end: for every theme's trend, 13 months of them (1,121 theme rows a day at 10
-- million answers). Now it reads one block. The blocks are summed afresh from the daily rows
-- at the next start (`blocks`), a month at a time, by the code that maps the writer's days.
INSERT INTO pending_rebuilds (name) VALUES ('blocks');
