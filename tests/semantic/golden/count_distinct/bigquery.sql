SELECT
  DATE_TRUNC(CAST(orders.created_at AS DATE), MONTH) AS `created_at_month`,
  COUNT(DISTINCT orders.customer_id) AS `customer_count`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  `created_at_month`
ORDER BY
  `created_at_month` ASC NULLS LAST
LIMIT 1000
