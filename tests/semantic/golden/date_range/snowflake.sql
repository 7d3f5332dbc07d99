SELECT
  orders.status AS "status",
  SUM(orders.amount) AS "total_revenue"
FROM gnomon_semantic_test.orders AS orders
WHERE
  (
    orders.created_at >= CAST('2024-01-17 00:00:00' AS TIMESTAMP)
    AND orders.created_at < CAST('2024-04-16 00:00:00' AS TIMESTAMP)
  )
  AND (
    (
      NOT orders.status IN ('cancelled') OR orders.status IS NULL
    )
  )
GROUP BY
  orders.status
ORDER BY
  "total_revenue" DESC NULLS LAST
LIMIT 1000
