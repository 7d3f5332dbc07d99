SELECT
  DATE_TRUNC(CAST(orders.created_at AS DATE), WEEK(MONDAY)) AS `created_at_week`,
  COUNT(orders.id) AS `orders.count`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  `created_at_week`
ORDER BY
  `orders.count` DESC
LIMIT 10
