WITH agg_main AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE) AS d0,
    SUM(orders.amount) AS m0
  FROM gnomon_semantic_test.orders AS orders
  WHERE
    orders.created_at >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    AND orders.created_at < CAST('2024-04-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE)
), prev1_agg_main AS (
  SELECT
    CAST(DATE_TRUNC(
      'MONTH',
      CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE) + INTERVAL (
        1
      ) MONTH
    ) AS DATE) AS d0,
    SUM(orders.amount) AS m0
  FROM gnomon_semantic_test.orders AS orders
  WHERE
    orders.created_at >= CAST('2023-12-01 00:00:00' AS TIMESTAMP)
    AND orders.created_at < CAST('2024-03-01 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST(DATE_TRUNC(
      'MONTH',
      CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE) + INTERVAL (
        1
      ) MONTH
    ) AS DATE)
)
SELECT
  agg_main.d0 AS "created_at_month",
  agg_main.m0 AS "total_revenue",
  (
    agg_main.m0 - prev1_agg_main.m0
  ) / NULLIF(prev1_agg_main.m0, 0) AS "revenue_growth"
FROM agg_main
LEFT JOIN prev1_agg_main
  ON agg_main.d0 IS NOT DISTINCT FROM prev1_agg_main.d0
ORDER BY
  "created_at_month" ASC
LIMIT 1000
