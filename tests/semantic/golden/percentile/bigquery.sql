WITH agg_m0 AS (
  SELECT
    MAX(CASE WHEN __rn = FLOOR(0.9 * (
      __n - 1
    )) + 1 THEN __v0 END) + MAX(0.9 * (
      __n - 1
    ) - FLOOR(0.9 * (
      __n - 1
    ))) * (
      COALESCE(
        MAX(CASE WHEN __rn = FLOOR(0.9 * (
          __n - 1
        )) + 1 + 1 THEN __v0 END),
        MAX(CASE WHEN __rn = FLOOR(0.9 * (
          __n - 1
        )) + 1 THEN __v0 END)
      ) - MAX(CASE WHEN __rn = FLOOR(0.9 * (
        __n - 1
      )) + 1 THEN __v0 END)
    ) AS m0
  FROM (
    SELECT
      __v0,
      ROW_NUMBER() OVER (ORDER BY __v0 NULLS LAST) AS __rn,
      COUNT(__v0) OVER () AS __n
    FROM (
      SELECT
        orders.amount AS __v0
      FROM gnomon_semantic_test.orders AS orders
    ) AS __rows
    WHERE
      NOT __v0 IS NULL
  ) AS __ranked
)
SELECT
  agg_m0.m0 AS `p90_amount`
FROM agg_m0
ORDER BY
  `p90_amount` DESC
LIMIT 1000
