SELECT
  orders.status AS "status",
  SUM(orders.amount) AS "total_revenue"
FROM gnomon_semantic_test.orders AS orders
LEFT JOIN gnomon_semantic_test.customers AS customers
  ON orders.customer_id = customers.id
WHERE
  customers.region IN ('west', 'north')
GROUP BY
  orders.status
ORDER BY
  "total_revenue" DESC
LIMIT 1000
