WITH agg_main AS (
  SELECT
    DATE(orders.created_at, 'start of month') AS d0,
    SUM(orders.amount) AS m0
  FROM gnomon_semantic_test.orders AS orders
  WHERE
    orders.created_at >= DATETIME('2024-01-01 00:00:00')
    AND orders.created_at < DATETIME('2024-04-01 00:00:00')
  GROUP BY
    DATE(orders.created_at, 'start of month')
), prev1_agg_main AS (
  SELECT
    DATE(
      MIN(
        DATETIME(DATE(orders.created_at, 'start of month'), '+1 months'),
        DATETIME(
          DATE(orders.created_at, 'start of month'),
          'start of month',
          '+1 months',
          '+1 months',
          '-1 days'
        )
      ),
      'start of month'
    ) AS d0,
    SUM(orders.amount) AS m0
  FROM gnomon_semantic_test.orders AS orders
  WHERE
    orders.created_at >= DATETIME('2023-12-01 00:00:00')
    AND orders.created_at < DATETIME('2024-03-01 00:00:00')
  GROUP BY
    DATE(
      MIN(
        DATETIME(DATE(orders.created_at, 'start of month'), '+1 months'),
        DATETIME(
          DATE(orders.created_at, 'start of month'),
          'start of month',
          '+1 months',
          '+1 months',
          '-1 days'
        )
      ),
      'start of month'
    )
)
SELECT
  agg_main.d0 AS "created_at_month",
  agg_main.m0 AS "total_revenue",
  CAST((
    agg_main.m0 - prev1_agg_main.m0
  ) AS REAL) / NULLIF(prev1_agg_main.m0, 0) AS "revenue_growth"
FROM agg_main
LEFT JOIN prev1_agg_main
  ON agg_main.d0 IS prev1_agg_main.d0
ORDER BY
  "created_at_month" ASC NULLS LAST
LIMIT 1000
