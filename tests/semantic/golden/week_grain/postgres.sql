SELECT
  CAST(orders.created_at AS DATE) - CAST((
    EXTRACT(ISODOW FROM orders.created_at) + 6 - 0
  ) % 7 AS INT) AS "created_at_week",
  COUNT(orders.id) AS "orders.count"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  CAST(orders.created_at AS DATE) - CAST((
    EXTRACT(ISODOW FROM orders.created_at) + 6 - 0
  ) % 7 AS INT)
ORDER BY
  "orders.count" DESC NULLS LAST
LIMIT 10
