WITH agg_main AS (
  SELECT
    DATE_SUB(DATE(orders.created_at), INTERVAL (
      DAYOFMONTH(orders.created_at) - 1
    ) DAY) AS d0,
    SUM(orders.amount) AS m0
  FROM gnomon_semantic_test.orders AS orders
  WHERE
    orders.created_at >= CAST('2024-01-01 00:00:00' AS DATETIME)
    AND orders.created_at < CAST('2024-04-01 00:00:00' AS DATETIME)
  GROUP BY
    DATE_SUB(DATE(orders.created_at), INTERVAL (
      DAYOFMONTH(orders.created_at) - 1
    ) DAY)
), prev1_agg_main AS (
  SELECT
    DATE_SUB(
      DATE(
        DATE_ADD(
          DATE_SUB(DATE(orders.created_at), INTERVAL (
            DAYOFMONTH(orders.created_at) - 1
          ) DAY),
          INTERVAL '1' MONTH
        )
      ),
      INTERVAL (
        DAYOFMONTH(
          DATE_ADD(
            DATE_SUB(DATE(orders.created_at), INTERVAL (
              DAYOFMONTH(orders.created_at) - 1
            ) DAY),
            INTERVAL '1' MONTH
          )
        ) - 1
      ) DAY
    ) AS d0,
    SUM(orders.amount) AS m0
  FROM gnomon_semantic_test.orders AS orders
  WHERE
    orders.created_at >= CAST('2023-12-01 00:00:00' AS DATETIME)
    AND orders.created_at < CAST('2024-03-01 00:00:00' AS DATETIME)
  GROUP BY
    DATE_SUB(
      DATE(
        DATE_ADD(
          DATE_SUB(DATE(orders.created_at), INTERVAL (
            DAYOFMONTH(orders.created_at) - 1
          ) DAY),
          INTERVAL '1' MONTH
        )
      ),
      INTERVAL (
        DAYOFMONTH(
          DATE_ADD(
            DATE_SUB(DATE(orders.created_at), INTERVAL (
              DAYOFMONTH(orders.created_at) - 1
            ) DAY),
            INTERVAL '1' MONTH
          )
        ) - 1
      ) DAY
    )
)
SELECT
  agg_main.d0 AS `created_at_month`,
  agg_main.m0 AS `total_revenue`,
  (
    agg_main.m0 - prev1_agg_main.m0
  ) / NULLIF(prev1_agg_main.m0, 0) AS `revenue_growth`
FROM agg_main
LEFT JOIN prev1_agg_main
  ON agg_main.d0 <=> prev1_agg_main.d0
ORDER BY
  CASE WHEN agg_main.d0 IS NULL THEN 1 ELSE 0 END, agg_main.d0 ASC
LIMIT 1000
