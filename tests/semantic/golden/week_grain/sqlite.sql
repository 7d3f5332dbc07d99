SELECT
  DATE(
    orders.created_at,
    '-' || (
      (
        CAST(STRFTIME('%w', orders.created_at) AS INTEGER) + 13 - 0
      ) % 7
    ) || ' days'
  ) AS "created_at_week",
  COUNT(orders.id) AS "orders.count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATE(
    orders.created_at,
    '-' || (
      (
        CAST(STRFTIME('%w', orders.created_at) AS INTEGER) + 13 - 0
      ) % 7
    ) || ' days'
  )
ORDER BY
  "orders.count" DESC
LIMIT 10
