WITH agg_m0 AS (
  SELECT
    d0,
    MAX(CASE WHEN __rn = FLOOR(0.5 * (
      __n - 1
    )) + 1 THEN __v0 END) + MAX(0.5 * (
      __n - 1
    ) - FLOOR(0.5 * (
      __n - 1
    ))) * (
      COALESCE(
        MAX(CASE WHEN __rn = FLOOR(0.5 * (
          __n - 1
        )) + 1 + 1 THEN __v0 END),
        MAX(CASE WHEN __rn = FLOOR(0.5 * (
          __n - 1
        )) + 1 THEN __v0 END)
      ) - MAX(CASE WHEN __rn = FLOOR(0.5 * (
        __n - 1
      )) + 1 THEN __v0 END)
    ) AS m0
  FROM (
    SELECT
      d0,
      __v0,
      ROW_NUMBER() OVER (PARTITION BY d0 ORDER BY __v0 NULLS LAST) AS __rn,
      COUNT(__v0) OVER (PARTITION BY d0) AS __n
    FROM (
      SELECT
        orders.status AS d0,
        orders.amount AS __v0
      FROM gnomon_semantic_test.orders AS orders
    ) AS __rows
    WHERE
      NOT __v0 IS NULL
  ) AS __ranked
  GROUP BY
    d0
)
SELECT
  agg_m0.d0 AS `status`,
  agg_m0.m0 AS `median_amount`
FROM agg_m0
ORDER BY
  `median_amount` DESC
LIMIT 1000
